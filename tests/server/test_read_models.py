"""The welcome snapshot is built once per seq, view and second, and shared; a new event or
an older view builds it again, and staff and sites never share one."""

from __future__ import annotations

from pathlib import Path

from scheduling import Actor, Role
from scheduling.base import parse_command
from server.config import Config
from server.service import read_models
from server.service.keys import SERVICE
from server.tools import demo
from tests.server.wshelp import free_port, serving


async def test_the_snapshot_is_shared_within_a_seq_and_a_second(tmp_path: Path) -> None:
    config = Config(port=free_port(), data_dir=tmp_path)
    async with serving(config) as app:
        service = app[SERVICE]
        await demo.seed(service, password="mat-khau-thu-nghiem")
        hub = service.conferences[demo.CONFERENCE]
        now = service.clock()
        clock = [100.0]

        def snap(*roles: Role) -> dict:
            return read_models.snapshot(hub, frozenset(roles), now, service.names, monotonic=lambda: clock[0])

        site = snap(Role.SITE)
        assert snap(Role.SITE) is site                      # the second page gets the same one
        staff = snap(Role.CHAIR)
        assert staff is not site and snap(Role.OBSERVER) is staff
        assert any(s["contact_name"] for s in staff["sites"].values())
        assert not any(s["contact_name"] for s in site["sites"].values())
        clock[0] += read_models.SNAPSHOT_MAX_AGE_S                # a second on: speaking time moves
        assert snap(Role.SITE) is not site
        site = snap(Role.SITE)
        assert snap(Role.SITE) is site
        state = hub.state
        assert state is not None
        await service.run_conference(demo.CONFERENCE, parse_command({"type": "open_conference", "key": "k-1"}),
                                     Actor.account(state.chair))
        fresh = snap(Role.SITE)                             # a new event: built again
        assert fresh is not site and fresh["seq"] == hub.seq and fresh["phase"] == "live" != site["phase"]
