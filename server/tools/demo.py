"""The demo deployment of ``make run``: Hanoi's 126 wards and communes, a main bridge,
accounts for the admin, the chair and two secretaries, and a quarterly review conference
scheduled for today with its agenda. Seeding twice changes nothing."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduling import (
    SYSTEM,
    Actor,
    AddAgendaItem,
    ConferenceKind,
    CreateAccount,
    CreateConference,
    ImportSites,
    InviteSites,
    OrgSettings,
    RegisterSite,
    ScheduleConference,
    SetOrganisation,
    SiteInfo,
    SiteKind,
    sites_to_csv,
)

from ..service.security import hash_password
from ..service.service import Service

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MAIN = "HN-TRU-SO"
CONFERENCE = "so-ket-quy-3"

# (area, [(kind, name), ...]) — the 126 communal-level units of Hanoi from 1 July 2025,
# grouped by the district they mostly came from. Demo data: headcounts are made up.
AREAS: list[tuple[str, list[str]]] = [
    ("Khu vực Hoàn Kiếm - Ba Đình", ["P Hoàn Kiếm", "P Cửa Nam", "P Ba Đình", "P Ngọc Hà", "P Giảng Võ"]),
    ("Khu vực Hai Bà Trưng - Đống Đa", ["P Hai Bà Trưng", "P Vĩnh Tuy", "P Bạch Mai", "P Đống Đa", "P Kim Liên",
                                        "P Văn Miếu - Quốc Tử Giám", "P Láng", "P Ô Chợ Dừa"]),
    ("Khu vực Hoàng Mai - Thanh Xuân", ["P Hồng Hà", "P Lĩnh Nam", "P Hoàng Mai", "P Vĩnh Hưng", "P Tương Mai",
                                        "P Định Công", "P Hoàng Liệt", "P Yên Sở", "P Thanh Xuân", "P Khương Đình",
                                        "P Phương Liệt"]),
    ("Khu vực Cầu Giấy - Tây Hồ", ["P Cầu Giấy", "P Nghĩa Đô", "P Yên Hòa", "P Tây Hồ", "P Phú Thượng"]),
    ("Khu vực Bắc - Nam Từ Liêm", ["P Tây Tựu", "P Phú Diễn", "P Xuân Đỉnh", "P Đông Ngạc", "P Thượng Cát",
                                   "P Từ Liêm", "P Xuân Phương", "P Tây Mỗ", "P Đại Mỗ"]),
    ("Khu vực Long Biên - Gia Lâm", ["P Long Biên", "P Bồ Đề", "P Việt Hưng", "P Phúc Lợi", "X Gia Lâm",
                                     "X Thuận An", "X Bát Tràng", "X Phù Đổng"]),
    ("Khu vực Hà Đông", ["P Hà Đông", "P Dương Nội", "P Yên Nghĩa", "P Phú Lương", "P Kiến Hưng"]),
    ("Khu vực Thanh Trì - Thường Tín", ["P Thanh Liệt", "X Thanh Trì", "X Đại Thanh", "X Nam Phù", "X Ngọc Hồi",
                                        "X Thượng Phúc", "X Thường Tín", "X Chương Dương", "X Hồng Vân"]),
    ("Khu vực Phú Xuyên - Ứng Hòa", ["X Phú Xuyên", "X Phượng Dực", "X Chuyên Mỹ", "X Đại Xuyên", "X Vân Đình",
                                     "X Ứng Thiên", "X Hòa Xá", "X Ứng Hòa"]),
    ("Khu vực Thanh Oai - Mỹ Đức", ["X Thanh Oai", "X Bình Minh", "X Tam Hưng", "X Dân Hòa", "X Mỹ Đức",
                                    "X Hồng Sơn", "X Phúc Sơn", "X Hương Sơn"]),
    ("Khu vực Chương Mỹ", ["P Chương Mỹ", "X Phú Nghĩa", "X Xuân Mai", "X Trần Phú", "X Hòa Phú", "X Quảng Bị"]),
    ("Khu vực Sơn Tây - Ba Vì", ["P Sơn Tây", "P Tùng Thiện", "X Minh Châu", "X Quảng Oai", "X Vật Lại", "X Cổ Đô",
                                 "X Bất Bạt", "X Suối Hai", "X Ba Vì", "X Yên Bài", "X Đoài Phương"]),
    ("Khu vực Phúc Thọ - Thạch Thất", ["X Phúc Thọ", "X Phúc Lộc", "X Hát Môn", "X Thạch Thất", "X Hạ Bằng",
                                       "X Tây Phương", "X Hòa Lạc", "X Yên Xuân"]),
    ("Khu vực Quốc Oai - Hoài Đức - Đan Phượng", ["X Quốc Oai", "X Hưng Đạo", "X Kiều Phú", "X Phú Cát",
                                                  "X Hoài Đức", "X Dương Hòa", "X Sơn Đồng", "X An Khánh",
                                                  "X Đan Phượng", "X Ô Diên", "X Liên Minh"]),
    ("Khu vực Đông Anh - Mê Linh", ["X Thư Lâm", "X Đông Anh", "X Phúc Thịnh", "X Thiên Lộc", "X Vĩnh Thanh",
                                    "X Mê Linh", "X Yên Lãng", "X Tiến Thắng", "X Quang Minh"]),
    ("Khu vực Sóc Sơn", ["X Sóc Sơn", "X Đa Phúc", "X Nội Bài", "X Trung Giã", "X Kim Anh"]),
]

ASCII = str.maketrans("àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ",
                      "aaaaaaaaaaaaaaaaaeeeeeeeeeeeiiiiiooooooooooooooooouuuuuuuuuuuyyyyyd")


def _code(kind: str, name: str) -> str:
    slug = "-".join(name.lower().translate(ASCII).replace("-", " ").split()).upper()
    return f"{kind}-{slug}"[:32]


def demo_sites() -> list[SiteInfo]:
    sites = []
    for i, (area, units) in enumerate(AREAS):
        for j, unit in enumerate(units):
            kind, name = unit.split(" ", 1)
            label = ("Phường " if kind == "P" else "Xã ") + name
            sites.append(SiteInfo(code=_code(kind, name), name=label, parent=area, kind=SiteKind.REMOTE,
                                  expected_headcount=60 + (i * 37 + j * 11) % 90,
                                  contact_name="Văn phòng HĐND - UBND " + label.lower().split(" ", 1)[0] + " " + name))
    return sites


@dataclass(frozen=True)
class DemoAccounts:
    admin: str
    chair: str
    secretaries: tuple[str, str]
    password: str


PRINTED = 5   # wards whose join links `serve --demo` prints


def printed_sites(codes: list[str], main_site: str) -> list[str]:
    """The wards whose join links ``make run`` prints (``bridgeconf simulate`` leaves them to
    the browsers)."""
    return [c for c in codes if c != main_site][:PRINTED]


async def seed(service: Service, *, password: str | None = None, now: datetime | None = None) -> DemoAccounts:
    accounts = DemoAccounts("admin", "chutri", ("thuky1", "thuky2"), password or secrets.token_urlsafe(9))
    admin = Actor.account(accounts.admin, admin=True)
    if not service.accounts.state.accounts:
        pw = hash_password(accounts.password)
        await service.run_accounts(CreateAccount(key="demo-admin", account_id=accounts.admin, name="Quản trị hệ thống",
                                                 admin=True, password_hash=pw), SYSTEM)
        for key, acc_id, name in (("demo-chair", accounts.chair, "Chủ tịch UBND Thành phố"),
                                  ("demo-sec1", accounts.secretaries[0], "Thư ký Nguyễn Thị Lan"),
                                  ("demo-sec2", accounts.secretaries[1], "Thư ký Trần Văn Minh")):
            await service.run_accounts(CreateAccount(key=key, account_id=acc_id, name=name, password_hash=pw), admin)
    if MAIN not in service.directory.state.sites:
        await service.run_directory(RegisterSite(key="demo-main", site=SiteInfo(
            code=MAIN, name="Điểm cầu chính - Trụ sở Thành ủy Hà Nội", parent="Thành phố Hà Nội",
            kind=SiteKind.MAIN, expected_headcount=80)), admin)
        await service.run_directory(ImportSites(key="demo-import", csv=sites_to_csv(demo_sites())), admin)
    if CONFERENCE not in service.conferences:
        today = (now or service.clock()).astimezone(TZ).date()
        start = datetime.combine(today, time(8, 0), TZ)
        await service.run_conference(CONFERENCE, CreateConference(
            key="demo-create", conference_id=CONFERENCE,
            title="Hội nghị trực tuyến sơ kết quý III/2025: tháo gỡ vướng mắc trong vận hành chính quyền địa phương hai cấp",
            kind=ConferenceKind.PERIODIC_REVIEW, starts_at=start, ends_at=start + timedelta(hours=4), main_site=MAIN,
            chair=accounts.chair, secretaries=accounts.secretaries, max_speakers=1, series="so-ket-quy"), admin)
        await service.run_conference(CONFERENCE, InviteSites(key="demo-invite", group="remote"), admin)
        report = ("Báo cáo số 215/BC-SNV của Sở Nội vụ về kết quả vận hành quý III",)
        for n, (title, presenter, minutes, documents) in enumerate([
            ("Khai mạc, giới thiệu đại biểu", "Văn phòng UBND Thành phố", 5, ()),
            ("Báo cáo kết quả vận hành mô hình chính quyền địa phương hai cấp quý III", "Sở Nội vụ", 20, report),
            ("Ý kiến của các phường, xã về khó khăn, vướng mắc", "Các điểm cầu", 60, ()),
            ("Giải đáp kiến nghị của các sở, ngành", "Các sở, ngành", 30, ()),
            ("Kết luận của Chủ tịch UBND Thành phố", "Chủ trì", 15, ()),
            ("Bế mạc", "Văn phòng UBND Thành phố", 5, ()),
        ], start=1):
            await service.run_conference(CONFERENCE, AddAgendaItem(
                key=f"demo-item-{n}", item_id=f"muc-{n}", title=title, presenter=presenter, planned_minutes=minutes,
                documents=documents), admin)
        await service.run_conference(CONFERENCE, ScheduleConference(key="demo-schedule"), admin)
    if service.records.organisation.state.version == 0:   # the issuer of the minutes (Decree 30 format)
        await service.records.run(SetOrganisation(key="demo-organisation", settings=DEMO_ORGANISATION), admin)
    return accounts


# the admin changes these on the admin page; the DEMO certificate that signs is made by the CLI
DEMO_ORGANISATION = OrgSettings(
    governing_body="UBND THÀNH PHỐ HÀ NỘI", issuing_body="Văn phòng", symbol="BB-VP", place="Hà Nội",
    chair_title="Chủ trì hội nghị", secretary_title="Thư ký hội nghị",
    recipients=("Các đại biểu dự hội nghị;", "Các phường, xã (qua hệ thống);", "Lưu: VT, VP."))
