"""Prefect events of the operations layer (the event trigger of flows/deployments.py listens for them)."""

from __future__ import annotations

from typing import Any

POSE_FLAGGED = "safealign.pose.flagged"


def prefect_api_url() -> str | None:
    """The configured Prefect API (PREFECT_API_URL / profile), or None in ephemeral mode."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


def emit_pose_flagged(category: str, payload: dict[str, Any]) -> str:
    """Send ``safealign.pose.flagged`` for ``category`` when a Prefect API is configured; return what happened.

    Without a configured API there is nobody to trigger (an ephemeral server would die with this process), so
    nothing is sent and the returned line says so. Connection failures are reported, not raised: the flagged
    files are already in place and the nightly schedule will pick them up.
    """
    api = prefect_api_url()
    if not api:
        return f"event {POSE_FLAGGED} not emitted: no Prefect API configured (set PREFECT_API_URL)"
    import anyio

    try:
        event_id = anyio.run(_send, category, payload)
    except Exception as exc:  # websockets/httpx raise many types; the flag itself already succeeded
        return f"event {POSE_FLAGGED} NOT emitted to {api}: {exc.__class__.__name__}: {exc}"
    return f"event {POSE_FLAGGED} emitted to {api} (category {category}, id {event_id})"


async def _send(category: str, payload: dict[str, Any]) -> str:
    from prefect.events import Event
    from prefect.events.clients import get_events_client

    event = Event(event=POSE_FLAGGED,
                  resource={"prefect.resource.id": f"safealign.category.{category}",
                            "prefect.resource.name": category, "safealign.category": category},
                  payload=payload)
    async with get_events_client(reconnection_attempts=2) as client:
        await client.emit(event)
    return str(event.id)
