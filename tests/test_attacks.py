"""The attack suite's fast cases against ``wsframe echo``, on both backends.

tools/attack.py starts the server as a subprocess and attacks it with raw
sockets while a well-behaved client talks to it; here each attack runs once
per backend and the bounds of docs/security.md are asserted on what it
measured: at most 32 MiB of server memory per attacking connection, a peer
that stops reading let go within the server's configured timeouts, and every
reply for the well-behaved client.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, Tuple

import pytest
from conftest import load_backend

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the attack suite reads /proc")

MEMORY_PER_CONNECTION = 32 << 20


def _load_attack_tool() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "tools" / "attack.py"
    spec = importlib.util.spec_from_file_location("wsframe_attack_tool", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


attack_tool = _load_attack_tool()

# The echo server runs with 3 s idle and handshake timeouts and a close
# timeout of 5 s: a quiet peer is let go after at most 3 + 5 s, give or take
# a scheduling delay. Attacks whose hold is not asserted wait only a second.
LET_GO_WITHIN = attack_tool.IDLE_TIMEOUT + 5.0 + 2.0
OPTIONS = {
    "ping-flood": attack_tool.Options(duration=2.0, hold=LET_GO_WITHIN + 0.5, connections=4),
    "slow-reader": attack_tool.Options(duration=2.0, hold=LET_GO_WITHIN + 0.5),
    "empty-continuations": attack_tool.Options(duration=2.0, hold=1.0),
    "deflate-bomb": attack_tool.Options(hold=1.0, bomb_size=256 << 20),
    "idle-connections": attack_tool.Options(hold=1.0, idle_connections=1000),
    "oversized-headers": attack_tool.Options(hold=1.0),
    "slowloris": attack_tool.Options(hold=attack_tool.IDLE_TIMEOUT + 2.0, slowloris_connections=20),
}
_RESULTS: Dict[Tuple[str, str], Any] = {}


@pytest.fixture(params=["c", "python"], ids=lambda name: f"backend={name}")
def backend(request: pytest.FixtureRequest) -> str:
    load_backend(request.param)
    return str(request.param)


def attacked(attack: str, backend: str) -> Any:
    """The attack's result against ``wsframe echo`` on ``backend``, run once for every test that reads it."""
    key = (attack, backend)
    if key not in _RESULTS:
        _RESULTS[key] = attack_tool.run_attack(attack, f"wsframe-{backend}", OPTIONS[attack])
    result = _RESULTS[key]
    assert not result.notes, result.notes  # the server stayed up and its peak memory was measured
    return result


@pytest.mark.parametrize("attack", list(OPTIONS))
def test_attacker_costs_at_most_32_mib_per_connection(attack: str, backend: str) -> None:
    result = attacked(attack, backend)
    assert result.rss_growth_per_connection <= MEMORY_PER_CONNECTION, attack_tool.markdown([result])


@pytest.mark.parametrize("attack", list(OPTIONS))
def test_well_behaved_client_gets_every_reply_during_the_attack(attack: str, backend: str) -> None:
    result = attacked(attack, backend)
    assert result.client_got_every_reply, attack_tool.markdown([result])


@pytest.mark.parametrize("attack", ["ping-flood", "slow-reader"])
def test_peer_that_stops_reading_is_let_go_within_its_timeouts(attack: str, backend: str) -> None:
    # The attacker fills both sockets' buffers with what it sends and what
    # the server answers, then goes quiet with the connection open: the
    # server's idle timeout starts the closing handshake, and its close
    # timeout aborts the transport whose writes never drain.
    result = attacked(attack, backend)
    assert result.held_seconds is not None and result.held_seconds <= LET_GO_WITHIN, attack_tool.markdown([result])


def test_deflate_bomb_is_refused_with_1009_at_the_limit(backend: str) -> None:
    # 256 MiB of zeros in 255 KiB, against a 16 MiB limit: refused, having
    # inflated no more than the limit and a step.
    result = attacked("deflate-bomb", backend)
    assert result.details["close_code"] == 1009, attack_tool.markdown([result])
    assert result.rss_growth_bytes <= attack_tool.MAX_MESSAGE_SIZE + (4 << 20), attack_tool.markdown([result])


def test_oversized_headers_are_answered_431(backend: str) -> None:
    result = attacked("oversized-headers", backend)
    assert result.details["status"] == 431, attack_tool.markdown([result])


def test_idle_connections_give_every_descriptor_back(backend: str) -> None:
    result = attacked("idle-connections", backend)
    assert result.details["opened"] == OPTIONS["idle-connections"].idle_connections, attack_tool.markdown([result])
    assert result.details["descriptors_after"] <= result.details["descriptors_before"], attack_tool.markdown([result])


def test_slowloris_is_cut_by_the_handshake_timeout(backend: str) -> None:
    result = attacked("slowloris", backend)
    assert result.held_seconds is not None, attack_tool.markdown([result])
    assert result.held_seconds <= attack_tool.IDLE_TIMEOUT + 2.0, attack_tool.markdown([result])
