"""The JavaScript strings of the pages for the day before and for the admin's records: the
connectivity check (site page and chair's wall), the admin's calendar and conference form,
the recordings and the audit log. Kept as ``strings.py`` keeps its own (English msgids for
Babel, ``{name}`` placeholders); ``strings.STRINGS`` takes them in."""

from __future__ import annotations


def N_(message: str) -> str:
    return message


BEFORE: dict[str, str] = {
    # the check on a site's page (readiness_check.js)
    "check.run": N_("Run the check"),
    "check.run_again": N_("Run the check again"),
    "check.never": N_("Not checked yet: run the check before the conference."),
    "check.ready": N_("Ready: the last check ({time}) found nothing to fix."),
    "check.needs_check": N_("Needs attention: the last check ({time}) found something to fix."),
    "check.ready_toast": N_("Check done: ready for the conference."),
    "check.needs_check_toast": N_("Check done: see what to fix."),
    "check.running_devices": N_("Checking the camera and microphone… speak into the microphone."),
    "check.running_link": N_("Measuring the connection to the main bridge (5 seconds)…"),
    "check.fix.no_microphone": N_("No microphone found: plug in the microphone, allow this page to use it, then run the check again."),
    "check.fix.silent_microphone": N_("The microphone hears nothing: check that it is switched on and not muted, then run the check again."),
    "check.fix.no_camera": N_("No camera found: plug in the camera, allow this page to use it, then run the check again."),
    "check.fix.no_media_path": N_("Cannot reach the conference's media server: check the network and the firewall (ask IT about the TURN server)."),
    "check.fix.weak_link": N_("Weak connection: use the audio-only mode during the conference."),
    "check.microphone": N_("Microphone"),
    "check.camera": N_("Camera picture"),
    "check.rtt": N_("Round trip"),
    "check.loss": N_("Packets lost"),
    "check.bitrate": N_("Bitrate"),
    "check.turn": N_("Through a TURN relay"),
    "check.turn_yes": N_("Yes"),
    "check.turn_no": N_("No (direct)"),
    "check.found": N_("Found"),
    "check.missing": N_("Not found"),
    "check.not_measured": N_("Not measured"),
    # the chair's table (readiness_wall.js)
    "readiness.counts": N_("{ready} ready · {needs} need attention · {unchecked} not checked"),
    "readiness.ready": N_("Ready"),
    "readiness.needs_check": N_("Needs attention"),
    "readiness.unchecked": N_("Not checked"),
    "readiness.yes": N_("Yes"),
    "readiness.no": N_("No"),
    "readiness.none": N_("None"),
    "readiness.runs": N_("{n} checks"),
    "readiness.problem.no_microphone": N_("no microphone"),
    "readiness.problem.silent_microphone": N_("silent microphone"),
    "readiness.problem.no_camera": N_("no camera"),
    "readiness.problem.no_media_path": N_("no media connection"),
    "readiness.problem.high_rtt": N_("long delay"),
    "readiness.problem.high_loss": N_("packets lost"),
    "readiness.problem.low_bitrate": N_("low bitrate"),
    # the admin's calendar (admin_calendar.js)
    "calendar.month": N_("Month {month}/{year}"),
    "calendar.mon": N_("Mon"),
    "calendar.tue": N_("Tue"),
    "calendar.wed": N_("Wed"),
    "calendar.thu": N_("Thu"),
    "calendar.fri": N_("Fri"),
    "calendar.sat": N_("Sat"),
    "calendar.sun": N_("Sun"),
    # the conference form and uninviting (admin_edit.js)
    "edit.saved": N_("Changes saved."),
    "edit.nothing": N_("Nothing was changed."),
    "edit.closed": N_("The conference is over: its details can no longer be changed."),
    "edit.uninvite": N_("Uninvite"),
    "edit.uninvite_confirm": N_("Uninvite {name}? Its join link stops working for this conference."),
    "edit.uninvited": N_("{name} is no longer invited."),
    # the audit log (admin_audit.js)
    "audit.stream.directory": N_("Site directory"),
    "audit.stream.accounts": N_("Accounts"),
    "audit.stream.links": N_("Join links"),
    "audit.stream.conference": N_("Conference: {title} ({date})"),
    "audit.all_types": N_("Everything"),
    "audit.summary": N_("{matched} entries."),
    "audit.summary_more": N_("The newest {shown} of {matched} entries; narrow the filters or export them all as CSV."),
    "audit.truncated": N_("This record is very long: only its newest entries were read."),
    "audit.none": N_("No entry matches these filters."),
    "audit.system": N_("The system"),
    # the recordings (recordings.js)
    "rec.part": N_("Part {n}"),
    "rec.play": N_("Play"),
    "rec.download": N_("Download"),
    "rec.start": N_("From the start"),
    "rec.now": N_("Playing {file}: {title}"),
    "rec.recording": N_("The conference is being recorded: the last part grows until it ends."),
    "rec.none": N_("No recording yet: the program is recorded while the conference is live."),
    "rec.no_chapters": N_("No chapter marks in this part."),
}
