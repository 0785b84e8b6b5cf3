"""S7: webhook URLs aimed at loopback, private, link-local, metadata and other non-public
addresses — literal, in decimal/octal/hex forms, or names a (fake) resolver points inward — are
refused at registration and at send time, with loopback *not* allowed, and no connection is
ever attempted to them; a redirect from a public receiver is not followed."""

from __future__ import annotations

import uuid

from alert_svc.models import Webhook, WebhookAttempt, WebhookDelivery
from battery_support import report
from channel_common.testing import assert_problem, bearer, eventually
from inprocess.conftest import Started
from inprocess.network import FAKE_DNS, PUBLIC, PUBLIC_NAMES, REDIRECTOR, Wire
from sqlmodel import select

FAKE_DNS.update(
    {
        "localhost": ["127.0.0.1", "::1"],
        "localhost.localdomain": ["127.0.0.1"],
        "internal.example.com": ["10.0.0.5"],
        "rebind.example.com": ["127.0.0.1"],
        "mixed.example.com": [PUBLIC, "10.0.0.1"],
        "mixed6.example.com": [PUBLIC, "fd00::1"],
        "v6private.example.com": ["fd12:3456:789a::1"],
        "metadata.example.com": ["169.254.169.254"],
        "metadata.google.internal": ["169.254.169.254"],
        "mapped.example.com": ["::ffff:10.0.0.1"],
        "mapped-loopback.example.com": ["::ffff:127.0.0.1"],
        "linklocal.example.com": ["169.254.10.10"],
        "cgnat.example.com": ["100.64.1.1"],
        "127.0.0.1.nip.io": ["127.0.0.1"],
        "app.localtest.me": ["127.0.0.1"],
        "zero.example.com": ["0.0.0.0"],  # noqa: S104
    }
)
HOSTS = [
    # loopback, IPv4 and IPv6
    "127.0.0.1", "127.0.0.2", "127.255.255.254", "127.0.0.1:8080", "[::1]",
    "[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]",
    # private ranges, shared address space
    "10.0.0.1", "10.255.255.254", "172.16.0.1", "172.31.255.254", "192.168.0.1",
    "192.168.1.254", "100.64.0.1", "[fc00::1]", "[fd12:3456::1]", "[::ffff:10.0.0.1]",
    # link-local and cloud metadata
    "169.254.0.1", "[fe80::1]", "169.254.169.254", "[fd00:ec2::254]", "100.100.100.200",
    # unspecified, broadcast, multicast, reserved, documentation and benchmark ranges
    "0.0.0.0", "[::]", "255.255.255.255",  # noqa: S104
    "224.0.0.1", "[ff02::1]", "240.0.0.1",
    "192.0.2.1", "198.51.100.1", "203.0.113.1", "198.18.0.1",
    # decimal, octal, hex and short forms of loopback, private and metadata addresses
    "2130706433", "017700000001", "0x7f000001", "0177.0.0.1", "0x7f.0.0.1", "127.1",
    "127.0.1", "3232235521", "2852039166", "0xA9FEA9FE", "0251.0376.0251.0376", "10.1",
    # names resolving inward through the fake resolver
    *(name for name in FAKE_DNS if name not in PUBLIC_NAMES),
]  # fmt: skip
BAD_URLS = [
    *(f"http://{host}/hook" for host in HOSTS),
    f"https://{HOSTS[0]}/hook",
    f"http://{PUBLIC}@127.0.0.1/hook",  # a public address as userinfo, loopback as host
]
# Refused at registration by policy, though its address is public (so not an SSRF at send).
WITH_CREDENTIALS = f"http://user:pass@{PUBLIC}/hook"


def _delivery(webhook_id: uuid.UUID) -> WebhookDelivery:
    return WebhookDelivery(
        webhook_id=webhook_id,
        alert_id=uuid.uuid4(),
        event_type="alert.fired",
        payload='{"type":"alert.fired","timestamp":"2026-10-01T08:00:00Z","data":{}}',
        state="pending",
    )


async def test_ssrf_urls_are_refused_at_registration_and_at_send_time(
    started: Started, wire: Wire
) -> None:
    assert len(BAD_URLS) >= 60
    async with started("alert", webhook_poll_seconds=0.05, webhook_max_attempts=1) as (
        svc,
        client,
    ):
        assert svc.settings.allow_loopback_webhooks is False  # type: ignore[attr-defined]
        headers = bearer(svc.settings, ["alerts:read", "alerts:write"], subject="ops")
        accepted_at_registration = []
        for url in [*BAD_URLS, WITH_CREDENTIALS]:
            response = await client.post("/api/v1/webhooks", json={"url": url}, headers=headers)
            if response.status_code != 422:
                accepted_at_registration.append(f"{url} → {response.status_code}")
                continue
            assert_problem(response, 422)
        listed = await client.get("/api/v1/webhooks", headers=headers)
        assert listed.json()["items"] == []
        # A receiver that resolved publicly when registered.
        redirect = await client.post(
            "/api/v1/webhooks", json={"url": f"http://{REDIRECTOR}/hook"}, headers=headers
        )
        assert redirect.status_code == 201, redirect.text

        # Send time: the same URLs stored behind the guard's back (as if registered while the
        # names still resolved publicly, or under another configuration).
        sessions = svc.app.state.sessions
        async with sessions() as session:
            hooks = [Webhook(url=url, secret="whsec_" + "A" * 44, events=["alert.fired"],
                             min_severity="info") for url in BAD_URLS]  # fmt: skip
            session.add_all(hooks)
            await session.flush()
            session.add_all([_delivery(hook.id) for hook in hooks])
            session.add(_delivery(uuid.UUID(redirect.json()["id"])))
            await session.commit()

        async def attempted() -> bool:
            async with sessions() as session:
                rows = (await session.exec(select(WebhookAttempt))).all()
            return len(rows) >= len(BAD_URLS) + 1

        await eventually(attempted, timeout=60)
        async with sessions() as session:
            deliveries = (await session.exec(select(WebhookDelivery))).all()
            attempts = (await session.exec(select(WebhookAttempt))).all()
            urls = {h.id: h.url for h in (await session.exec(select(Webhook))).all()}
    errors = {a.delivery_id: a.error or "" for a in attempts}
    by_url = {urls[d.webhook_id]: errors.get(d.id, "") for d in deliveries}
    sent_unrefused = [url for url in BAD_URLS if not by_url[url].startswith("refused")]
    redirect_error = by_url[f"http://{REDIRECTOR}/hook"]
    inward = [u for u in wire.requests if not u.startswith(f"http://{PUBLIC}")]
    figures = report(
        "S7",
        urls=len(BAD_URLS),
        refused_at_registration=len(BAD_URLS) + 1 - len(accepted_at_registration),
        refused_at_send=len(BAD_URLS) - len(sent_unrefused),
        connections_attempted=sum(wire.sockets.values()) + len(inward),
        redirects_followed=sum(n for u, n in wire.requests.items() if "169.254" in u),
    )
    assert not accepted_at_registration, accepted_at_registration
    assert not sent_unrefused, {u: by_url[u] for u in sent_unrefused}
    # Names were refused for what they resolve to, not for failing to resolve.
    named = [f"http://{name}/hook" for name in FAKE_DNS if name not in PUBLIC_NAMES]
    assert all("resolves to a refused address" in by_url[url] for url in named), by_url
    assert figures["connections_attempted"] == 0, (wire.sockets, wire.requests)
    # The public receiver was called once; its redirect was recorded as a failure, not followed.
    assert sum(wire.requests.values()) == 1 and redirect_error == "HTTP 302"
    assert figures["redirects_followed"] == 0
