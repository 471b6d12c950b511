"""Every fixed word the documents print, in Vietnamese (the default) and English.

One table: key -> (vi, en). ``labels(lang)`` gives the column for one language.
"""

from __future__ import annotations

LANGS = ("vi", "en")

LABELS: dict[str, tuple[str, str]] = {
    "nation": ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "SOCIALIST REPUBLIC OF VIET NAM"),
    "motto": ("Độc lập - Tự do - Hạnh phúc", "Independence - Freedom - Happiness"),
    "doc_kind": ("BIÊN BẢN HỘI NGHỊ", "MINUTES OF THE CONFERENCE"),
    "draft": ("DỰ THẢO", "DRAFT"),
    "draft_note": ("Dự thảo, chưa được phê duyệt: nội dung còn có thể thay đổi.",
                   "Draft, not approved: the content may still change."),
    "day_phrase": ("ngày {d:02d} tháng {m:02d} năm {y}", "{d:02d}/{m:02d}/{y}"),
    "time": ("Thời gian", "Time"),
    "time_range": ("Từ {start} đến {end} ngày {date}", "From {start} to {end} on {date}"),
    "planned_range": ("kế hoạch {start} – {end}", "planned {start} – {end}"),
    "form": ("Hình thức", "Format"),
    "form_value": ("Trực tuyến, từ điểm cầu chính tới {n} điểm cầu", "Online, from the main bridge to {n} bridge sites"),
    "main_site": ("Điểm cầu chính", "Main bridge"),
    "chair": ("Chủ trì", "Chair"),
    "secretaries": ("Thư ký", "Secretaries"),
    "attendance_total": ("Thành phần", "Attendance"),
    "totals_line": ("{people} người tại {present}/{invited} điểm cầu (dự kiến {expected} người); "
                    "{absent} điểm cầu vắng",
                    "{people} people at {present}/{invited} bridge sites (expected {expected}); "
                    "{absent} sites absent"),
    "sec_attendance": ("I. THÀNH PHẦN THAM DỰ", "I. ATTENDANCE"),
    "sec_agenda": ("II. CHƯƠNG TRÌNH HỘI NGHỊ", "II. AGENDA AS RUN"),
    "sec_content": ("III. NỘI DUNG HỘI NGHỊ", "III. PROCEEDINGS"),
    "sec_actions": ("IV. NHIỆM VỤ ĐƯỢC GIAO", "IV. ACTION ITEMS"),
    "sec_general": ("Ghi chép chung", "General notes"),
    "col_no": ("STT", "No."),
    "col_site": ("Điểm cầu", "Bridge site"),
    "col_presence": ("Có mặt", "Present"),
    "col_joined": ("Vào lúc", "Joined"),
    "col_left": ("Rời lúc", "Left"),
    "col_headcount": ("Số người / dự kiến", "People / expected"),
    "col_leaders_present": ("Lãnh đạo có mặt", "Leaders present"),
    "col_leaders": ("Lãnh đạo vắng mặt (lý do)", "Leaders absent (reason)"),
    "present": ("Có mặt", "Present"),
    "absent": ("Vắng", "Absent"),
    "main_mark": ("điểm cầu chính", "main bridge"),
    "total_row": ("Tổng cộng", "Total"),
    "col_item": ("Nội dung", "Item"),
    "col_presenter": ("Trình bày", "Presenter"),
    "col_start": ("Bắt đầu", "Start"),
    "col_planned": ("Kế hoạch (phút)", "Planned (min)"),
    "col_actual": ("Thực tế (phút)", "Actual (min)"),
    "col_delta": ("Chênh lệch", "Difference"),
    "col_status": ("Trạng thái", "Status"),
    "item_time": ("Thời gian: {range} (kế hoạch {planned} phút, thực tế {actual} phút)",
                  "Time: {range} (planned {planned} min, actual {actual} min)"),
    "presenter": ("Trình bày", "Presented by"),
    "follow_up": ("Nhiệm vụ của kỳ trước được xem xét", "Earlier action items reviewed"),
    "due_short": ("hạn", "due"),
    "overdue": ("quá hạn", "overdue"),
    "last_progress": ("tiến độ gần nhất", "latest progress"),
    "speakers": ("Phát biểu", "Speakers"),
    "no_speakers": ("Không có điểm cầu phát biểu.", "No site took the floor."),
    "col_speaker": ("Người phát biểu / nội dung", "Speaker / topic"),
    "col_duration": ("Thời lượng", "Duration"),
    # the slides shown (scheduling.reports.slides_shown): per speaking turn, and outside any turn
    "slides_line": ("Trình chiếu: {decks}", "Slides shown: {decks}"),
    "slides_deck_one": ("{deck} — trang {pages}", "{deck} — page {pages}"),
    "slides_deck_many": ("{deck} — trang {pages}", "{deck} — pages {pages}"),
    "slides_by": ("{line} ({presenter})", "{line} ({presenter})"),
    "notes": ("Ghi chép", "Notes"),
    "conclusions": ("KẾT LUẬN", "CONCLUSIONS"),
    "col_task": ("Nhiệm vụ", "Task"),
    "col_assignees": ("Đơn vị thực hiện", "Assigned to"),
    "col_due": ("Hạn hoàn thành", "Due"),
    "col_from_item": ("Mục", "Item"),
    "no_actions": ("Không có nhiệm vụ được giao.", "No action items."),
    "closing": ("Hội nghị kết thúc lúc {time} ngày {date}.", "The conference ended at {time} on {date}."),
    "sign_secretary": ("THƯ KÝ", "SECRETARY"),
    "sign_chair": ("CHỦ TRÌ", "CHAIR"),
    "sign_hint": ("(Ký, ghi rõ họ tên)", "(Signature and full name)"),
    "verification": ("Xác thực văn bản", "Verification"),
    "version": ("Phiên bản", "Version"),
    "approved": ("Phê duyệt", "Approved"),
    "approved_value": ("{when}, bởi {who}", "{when}, by {who}"),
    "sha256": ("SHA-256", "SHA-256"),
    "prev_sha256": ("SHA-256 phiên bản trước", "Previous version's SHA-256"),
    "genesis": ("(phiên bản đầu tiên)", "(first version)"),
    "verify_hint": ("Kiểm tra bằng lệnh: bridgeconf minutes verify <tệp>",
                    "Check with: bridgeconf minutes verify <file>"),
    "page": ("Trang", "Page"),
    "number": ("Số", "No."),
    "recipients": ("Nơi nhận", "Recipients"),
    "role_chair": ("Chủ trì", "chair"),
    "docx_copy": ("BẢN ĐỂ CHỈNH SỬA – không phải bản gốc đã ký số. Bản gốc là tệp PDF có chữ ký số của cơ quan.",
                  "EDITABLE COPY – not the signed original. The original is the PDF signed by the organisation."),
    "minutes_unit": ("phút", "min"),
    "status_pending": ("Chưa thực hiện", "Not reached"),
    "status_active": ("Đang thực hiện", "In progress"),
    "status_done": ("Đã thực hiện", "Done"),
    "status_skipped": ("Không thực hiện", "Skipped"),
    "action_open": ("Mới giao", "Open"),
    "action_in_progress": ("Đang thực hiện", "In progress"),
    "action_done": ("Hoàn thành", "Done"),
    "action_cancelled": ("Đã hủy", "Cancelled"),
}


def labels(lang: str) -> dict[str, str]:
    """The labels of one language ("vi" or "en"); raises KeyError for another."""
    column = LANGS.index(lang) if lang in LANGS else None
    if column is None:
        raise KeyError(lang)
    return {key: pair[column] for key, pair in LABELS.items()}


def number(n: int, lang: str) -> str:
    """1234567 -> "1.234.567" in Vietnamese, "1,234,567" in English."""
    text = f"{n:,}"
    return text.replace(",", ".") if lang == "vi" else text
