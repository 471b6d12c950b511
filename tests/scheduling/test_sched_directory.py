"""The site directory (its own stream): register, update, retire, and import from CSV. Only
an admin changes it; a CSV import takes every row or none, and reports every bad row with
its line number."""

from __future__ import annotations

from typing import Any

import pytest
from scheduling_builders import (
    ADMIN,
    AN_HAI,
    CHAIR,
    HAI_CHAU,
    HOA_BAC,
    HOA_NINH,
    SITE,
    SITES,
    SYSTEM,
    T0,
    StreamRunner,
    make_directory,
    site,
)

from scheduling import (
    Actor,
    Directory,
    DomainError,
    ErrorCode,
    SiteInfo,
    SiteKind,
    SiteRegistered,
    SiteRetired,
    SiteUpdated,
    decide_directory,
    evolve_directory,
)
from scheduling.codec import to_plain
from scheduling.directory import MAX_IMPORT_ROWS, parse_sites_csv, sites_to_csv

NOW = T0


_directory = StreamRunner(decide_directory, evolve_directory, NOW)
run, refuse = _directory.run, _directory.refuse


def meta(actor: Actor = ADMIN, key: str = "k1") -> dict[str, Any]:
    return {"at": NOW, "actor": actor.ref, "key": key}


NEW = SiteInfo(code="X-HOA-PHU", name="UBND xã Hòa Phú", parent="Huyện Hòa Vang", expected_headcount=22,
               contact_name="Đặng Văn Khoa", contact_phone="0935 000 111", email="hoaphu@danang.gov.vn")
NOT_ADMINS = [CHAIR, site(HAI_CHAU), SYSTEM, Actor.account("quan_tri")]


class TestRegisterSite:
    def test_admin_registers_a_site(self) -> None:
        d = make_directory()
        events = run(d, ADMIN, {"type": "register_site", "site": to_plain(NEW)})
        assert events == [SiteRegistered(site=NEW, **meta())]
        assert d.get("X-HOA-PHU") == NEW
        assert [s.code for s in d.group("Huyện Hòa Vang")] == [HOA_BAC, HOA_NINH, "X-HOA-PHU"]
        assert d.version == len(SITES) + 1

    def test_the_smallest_site(self) -> None:
        d = Directory()
        run(d, ADMIN, {"type": "register_site", "site": {"code": "P1", "name": "Phường 1"}})
        assert d.get("P1") == SiteInfo(code="P1", name="Phường 1", kind=SiteKind.REMOTE)

    def test_a_code_is_taken_once(self) -> None:
        refuse(make_directory(), ADMIN, {"type": "register_site", "site": to_plain(SITE[HAI_CHAU])},
               ErrorCode.SITE_EXISTS, HAI_CHAU)

    def test_a_retired_code_may_be_registered_again(self) -> None:
        d = make_directory()
        run(d, ADMIN, {"type": "retire_site", "code": AN_HAI})
        run(d, ADMIN, {"type": "register_site", "site": {"code": AN_HAI, "name": "UBND phường An Hải"}}, key="k2")
        assert d.get(AN_HAI).name == "UBND phường An Hải" and AN_HAI not in d.retired

    @pytest.mark.parametrize("actor", NOT_ADMINS, ids=str)
    def test_only_an_admin(self, actor: Actor) -> None:
        refuse(make_directory(), actor, {"type": "register_site", "site": to_plain(NEW)}, ErrorCode.FORBIDDEN,
               "admin")

    @pytest.mark.parametrize(("fields", "message"), [
        ({"code": "x-hoa-phu"}, "code: 'x-hoa-phu' is not a site code"),
        ({"name": ""}, "name: must not be empty"),
        ({"kind": "branch"}, "site.kind: 'branch' is not one of main, remote"),
        ({"expected_headcount": -1}, "expected_headcount: must be between 0 and 100000"),
        ({"expected_headcount": "22"}, "site.expected_headcount: expected an integer, got string"),
        ({"email": "hoaphu.danang.gov.vn"}, "email: 'hoaphu.danang.gov.vn' is not an e-mail address"),
        ({"fax": "0236"}, "site.fax: unknown field"),
    ])
    def test_bad_input(self, fields: dict[str, Any], message: str) -> None:
        err = refuse(make_directory(), ADMIN, {"type": "register_site", "site": {**to_plain(NEW), **fields}},
                     ErrorCode.INVALID_COMMAND)
        assert err.message.startswith(message), err.message


class TestUpdateSite:
    def test_admin_updates_a_site(self) -> None:
        d = make_directory()
        changed = SiteInfo(**{**to_plain(SITE[HAI_CHAU]), "kind": SiteKind.REMOTE, "expected_headcount": 50})
        events = run(d, ADMIN, {"type": "update_site", "site": to_plain(changed)})
        assert events == [SiteUpdated(site=changed, **meta())]
        assert d.get(HAI_CHAU).expected_headcount == 50

    def test_unknown_site(self) -> None:
        refuse(make_directory(), ADMIN, {"type": "update_site", "site": to_plain(NEW)}, ErrorCode.UNKNOWN_SITE,
               "X-HOA-PHU")

    def test_not_a_retired_site(self) -> None:
        d = make_directory()
        run(d, ADMIN, {"type": "retire_site", "code": AN_HAI})
        refuse(d, ADMIN, {"type": "update_site", "site": to_plain(SITE[AN_HAI])}, ErrorCode.UNKNOWN_SITE, AN_HAI)

    @pytest.mark.parametrize("actor", NOT_ADMINS, ids=str)
    def test_only_an_admin(self, actor: Actor) -> None:
        refuse(make_directory(), actor, {"type": "update_site", "site": to_plain(SITE[HAI_CHAU])}, ErrorCode.FORBIDDEN)

    def test_bad_input(self) -> None:
        refuse(make_directory(), ADMIN, {"type": "update_site", "site": "P-HAI-CHAU"}, ErrorCode.INVALID_COMMAND,
               "site: expected an object, got string")


class TestRetireSite:
    def test_admin_retires_a_site(self) -> None:
        d = make_directory()
        events = run(d, ADMIN, {"type": "retire_site", "code": AN_HAI})
        assert events == [SiteRetired(code=AN_HAI, **meta())]
        assert AN_HAI not in [s.code for s in d.active()]
        assert d.sites[AN_HAI] == SITE[AN_HAI], "history keeps the site"
        with pytest.raises(DomainError) as info:
            d.group("Quận Sơn Trà")
        assert info.value.code is ErrorCode.UNKNOWN_SITE

    def test_unknown_or_already_retired(self) -> None:
        d = make_directory()
        refuse(d, ADMIN, {"type": "retire_site", "code": "P-KHONG-CO"}, ErrorCode.UNKNOWN_SITE, "P-KHONG-CO")
        run(d, ADMIN, {"type": "retire_site", "code": AN_HAI})
        refuse(d, ADMIN, {"type": "retire_site", "code": AN_HAI}, ErrorCode.UNKNOWN_SITE)

    @pytest.mark.parametrize("actor", NOT_ADMINS, ids=str)
    def test_only_an_admin(self, actor: Actor) -> None:
        refuse(make_directory(), actor, {"type": "retire_site", "code": AN_HAI}, ErrorCode.FORBIDDEN)

    def test_bad_input(self) -> None:
        refuse(make_directory(), ADMIN, {"type": "retire_site", "code": "an hai"}, ErrorCode.INVALID_COMMAND,
               "code: 'an hai' is not a site code")


GOOD_CSV = (
    "\ufeffcode,name,parent,kind,expected_headcount,contact_name,contact_phone,email\r\n"
    "x-hoa-phu,UBND xã Hòa Phú,Huyện Hòa Vang,remote,22,Đặng Văn Khoa,0935 000 111,hoaphu@danang.gov.vn\r\n"
    "X-HOA-SON,\"UBND xã Hòa Sơn, huyện Hòa Vang\",Huyện Hòa Vang,,35,,,\r\n"
    f"{HAI_CHAU},UBND phường Hải Châu,Quận Hải Châu,remote,50,Trần Thị Hạnh,0905 111 222,\r\n"
    f"{HOA_BAC},UBND xã Hòa Bắc,Huyện Hòa Vang,remote,25,Phạm Ngọc Ánh,,\r\n"
)


class TestImportSites:
    def test_a_good_file_registers_new_sites_and_updates_changed_ones(self) -> None:
        d = make_directory()
        events = run(d, ADMIN, {"type": "import_sites", "csv": GOOD_CSV})
        hoa_son = SiteInfo(code="X-HOA-SON", name="UBND xã Hòa Sơn, huyện Hòa Vang", parent="Huyện Hòa Vang",
                           expected_headcount=35)
        assert events == [
            SiteRegistered(site=NEW, **meta()),
            SiteRegistered(site=hoa_son, **meta()),
            SiteUpdated(site=SiteInfo(**{**to_plain(SITE[HAI_CHAU]), "kind": SiteKind.REMOTE,
                                         "expected_headcount": 50}), **meta()),
        ], "an unchanged row (Hòa Bắc) yields no event; a lower-case code is upper-cased"
        assert d.get("X-HOA-SON") == hoa_son

    def test_importing_the_same_file_again_changes_nothing(self) -> None:
        d = make_directory()
        run(d, ADMIN, {"type": "import_sites", "csv": GOOD_CSV})
        assert run(d, ADMIN, {"type": "import_sites", "csv": GOOD_CSV}, key="k2") == []

    def test_a_retired_site_comes_back(self) -> None:
        d = make_directory()
        run(d, ADMIN, {"type": "retire_site", "code": HOA_BAC})
        events = run(d, ADMIN, {"type": "import_sites", "csv": GOOD_CSV}, key="k2")
        assert [(type(e).__name__, e.site.code) for e in events][-1] == ("SiteRegistered", HOA_BAC)  # type: ignore[attr-defined]
        assert HOA_BAC not in d.retired

    def test_every_bad_row_is_reported_with_its_line_and_nothing_is_taken(self) -> None:
        text = (
            "code,name,parent,kind,expected_headcount\n"
            "X-HOA-PHU,UBND xã Hòa Phú,Huyện Hòa Vang,remote,22\n"    # line 2: good
            "X-HOA-SON,,Huyện Hòa Vang,remote,35\n"                   # line 3: no name
            "\n"                                                        # line 4: blank, skipped
            "X-HOA-LIEN,UBND xã Hòa Liên,Huyện Hòa Vang,branch,30\n"  # line 5: bad kind
            "X-HOA-NHON,UBND xã Hòa Nhơn,Huyện Hòa Vang,remote,ba mươi\n"  # line 6: not a number
            "X-HOA-PHU,UBND xã Hòa Phú (trùng),Huyện Hòa Vang,remote,22\n"  # line 7: duplicate code
            "X HOA KHUONG,UBND xã Hòa Khương,,remote,10\n"            # line 8: bad code
            "X-HOA-CHAU,\"UBND xã\nHòa Châu\",,remote,-4\n"           # lines 9-10: negative
            "X-HOA-TIEN,UBND xã Hòa Tiến,,remote,10,extra\n"          # line 11: extra cell
        )
        d = make_directory()
        err = refuse(d, ADMIN, {"type": "import_sites", "csv": text}, ErrorCode.BAD_CSV)
        assert err.message.split("; ") == [
            "line 3: name: must not be empty",
            "line 5: kind: 'branch' is not main, remote or department",
            "line 6: expected_headcount: 'ba mươi' is not a whole number",
            "line 7: code X-HOA-PHU appears twice",
            "line 8: code: 'X HOA KHUONG' is not a site code (A-Z 0-9 _ -, up to 32)",
            "line 10: expected_headcount: '-4' is not a whole number",
            "line 11: more cells than columns",
        ]
        assert "X-HOA-PHU" not in d.sites

    def test_codes_are_compared_upper_cased(self) -> None:
        err = refuse(make_directory(), ADMIN, {"type": "import_sites", "csv": "code,name\nP-A,Phường A\np-a,Phường A\n"},
                     ErrorCode.BAD_CSV)
        assert err.message == "line 3: code P-A appears twice"

    @pytest.mark.parametrize(("text", "message"), [
        ("ma,ten\nP1,Phường 1\n", "header row lacks column(s): code, name"),
        ("code,ten\nP1,Phường 1\n", "header row lacks column(s): name"),
        ("code,name,fax\nP1,Phường 1,0236\n", "unknown column(s): fax"),
        ("code,name,name\nP1,Phường 1,Phường Một\n", "column(s) named twice: name"),
        ("code,name\n", "no rows"),
        ("code,name,expected_headcount\nP1,Phường 1,²\n", "line 2: expected_headcount: '²' is not a whole number"),
        ("code,name,expected_headcount\nP1,Phường 1,٣\n", "line 2: expected_headcount: '٣' is not a whole number"),
        ("code,name,expected_headcount\nP1,Phường 1," + "9" * 5000 + "\n",
         "line 2: expected_headcount: must be between 0 and 100000"),
        ("code,name,expected_headcount\nP1,Phường 1,100001\n",
         "line 2: expected_headcount: must be between 0 and 100000, got 100001"),
        ("code,name,parent\nP1,Phường 1," + "x" * 200_000 + "\n", "line 2: field larger than field limit"),
        ("code,name,email\nP1,Phường 1,khong-co-a-cong\n", "line 2: email: 'khong-co-a-cong' is not an e-mail address"),
    ])
    def test_bad_files(self, text: str, message: str) -> None:
        err = refuse(make_directory(), ADMIN, {"type": "import_sites", "csv": text}, ErrorCode.BAD_CSV)
        assert err.message.startswith(message), err.message

    def test_an_empty_file_is_bad_input(self) -> None:
        refuse(make_directory(), ADMIN, {"type": "import_sites", "csv": ""}, ErrorCode.INVALID_COMMAND,
               "csv: must not be empty")

    def test_more_than_the_row_limit(self) -> None:
        rows = "".join(f"P{n},Phường {n}\n" for n in range(MAX_IMPORT_ROWS + 1))
        with pytest.raises(DomainError) as info:
            parse_sites_csv("code,name\n" + rows)
        assert info.value.code is ErrorCode.BAD_CSV and f"at most {MAX_IMPORT_ROWS}" in info.value.message

    def test_exactly_the_row_limit(self) -> None:
        rows = "".join(f"P{n},Phường {n}\n" for n in range(MAX_IMPORT_ROWS))
        assert len(parse_sites_csv("code,name\n" + rows)) == MAX_IMPORT_ROWS

    def test_more_than_20_problems_are_counted(self) -> None:
        rows = "".join(f"P{n},\n" for n in range(25))
        with pytest.raises(DomainError) as info:
            parse_sites_csv("code,name\n" + rows)
        assert info.value.message.endswith("; and 5 more")
        assert info.value.message.count("line ") == 20

    def test_export_then_import_gives_the_same_sites(self) -> None:
        assert parse_sites_csv(sites_to_csv(list(SITES))) == list(SITES)

    @pytest.mark.parametrize("actor", NOT_ADMINS, ids=str)
    def test_only_an_admin(self, actor: Actor) -> None:
        refuse(make_directory(), actor, {"type": "import_sites", "csv": GOOD_CSV}, ErrorCode.FORBIDDEN)


def test_a_conference_command_is_not_a_directory_command() -> None:
    refuse(make_directory(), ADMIN, {"type": "mute_all"}, ErrorCode.UNKNOWN_COMMAND, "mute_all")


def test_directory_replay_gives_the_same_directory() -> None:
    d = make_directory()
    log = [SiteRegistered(site=info, **meta(key=f"dir-{i}")) for i, info in enumerate(SITES)]
    log += run(d, ADMIN, {"type": "import_sites", "csv": GOOD_CSV}, key="nhap")
    log += run(d, ADMIN, {"type": "retire_site", "code": AN_HAI}, key="bo")
    again = Directory()
    for ev in log:
        evolve_directory(again, ev)
    assert (again.sites, again.retired, again.version) == (d.sites, d.retired, d.version)


def test_directory_groups() -> None:
    d = make_directory()
    assert d.groups() == ["Huyện Hòa Vang", "Quận Hải Châu", "Quận Sơn Trà", "Quận Thanh Khê", "Thành phố Đà Nẵng"]
    assert [s.code for s in d.group("remote")] == [c for c in SITE if SITE[c].kind is SiteKind.REMOTE]
    assert len(d.group("all")) == len(SITES)
