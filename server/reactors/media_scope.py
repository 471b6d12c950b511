"""What the media plane forwards in each phase of a conference: a pure rule.

The media follows the conference, not the pages: a page may connect its audio and video at
any time (and keeps its connection), but the forwarder carries only what the phase needs.

* draft, scheduled: nothing. Pages that connect early wait; nobody is seen or heard.
* rehearsal (the technical check): the main bridge's camera and microphone to every site
  (each site checks it sees and hears the program) and the sites' cameras on the staff's
  walls (the chair checks each site's picture). No floor (the domain grants none before the
  conference opens) and no recording.
* live: the program, the floor holders, the walls.
* ended, cancelled: nothing, not the main bridge's camera or microphone, not a preview.
"""

from __future__ import annotations

from dataclasses import dataclass

from scheduling import Phase


@dataclass(frozen=True)
class MediaScope:
    program: bool
    """The main bridge's camera and microphone go to every site."""
    floor: bool
    """The floor holders' cameras and microphones go to every site."""
    previews: bool
    """The sites' cameras go to the staff pages that show them."""

    @property
    def nothing(self) -> bool:
        return not (self.program or self.floor or self.previews)


NOTHING = MediaScope(program=False, floor=False, previews=False)
CHECK = MediaScope(program=True, floor=False, previews=True)
EVERYTHING = MediaScope(program=True, floor=True, previews=True)

_SCOPES = {
    Phase.DRAFT: NOTHING,
    Phase.SCHEDULED: NOTHING,
    Phase.REHEARSAL: CHECK,
    Phase.LIVE: EVERYTHING,
    Phase.ENDED: NOTHING,
    Phase.CANCELLED: NOTHING,
}


def media_scope(phase: Phase) -> MediaScope:
    """What is forwarded in ``phase`` (see the module docstring)."""
    return _SCOPES[phase]
