import assert from "node:assert/strict";
import { escapeHtml, formatDuration } from "./html.ts";
import { RecentRates, renderStatusPage, type StatusSnapshot } from "./status_page.ts";

function snapshot(overrides: Partial<StatusSnapshot> = {}): StatusSnapshot {
  return {
    now: new Date("2024-03-01T10:20:00Z"),
    version: "1.2.3",
    startedAt: new Date("2024-03-01T08:00:00Z"),
    connected: true,
    subscribed: true,
    connectionSince: new Date("2024-03-01T10:17:00Z"),
    broker: "mqtts://mqtt.stage.ammp.io:8883",
    clientId: "ammp-agent-gw1",
    topics: ["a/+/u/data", "a/+/data"],
    totals: { received: 1234, records: 1200, failed: 30, ignored: 4 },
    failedByReason: { not_json: 25, invalid_t: 5, too_large: 0 },
    rates: {
      seconds: 60,
      perSecond: { received: 2.5, records: 2.25, failed: 0.25, ignored: 0 },
    },
    lastMessageAt: new Date("2024-03-01T10:19:48Z"),
    newestReadingAt: new Date("2024-03-01T10:15:00Z"),
    ...overrides,
  };
}

// The page as read: without styles and tags.
function text(html: string): string {
  return html.replace(/<style>[^]*<\/style>/, "").replace(/<[^>]+>/g, " ").replace(/\s+/g, " ")
    .replace(/ ([,)])/g, "$1").replace(/\( /g, "(");
}

Deno.test("renderStatusPage() shows the connection, broker, topics, counts, rates, age and lag", () => {
  const html = renderStatusPage(snapshot());
  const shown = text(html);
  assert.match(shown, /Connection connected since 2024-03-01T10:17:00Z \(3 min 0 s\)/);
  assert.match(shown, /Broker mqtts:\/\/mqtt\.stage\.ammp\.io:8883/);
  assert.match(shown, /Topics a\/\+\/u\/data, a\/\+\/data/);
  assert.match(shown, /Messages received 1234 2\.50/);
  assert.match(shown, /Records written 1200 2\.25/);
  assert.match(shown, /Failed \(dead letters\) 30 0\.25/);
  assert.match(shown, /Ignored \(no data\) 4 0\.00/);
  assert.match(shown, /per second, last 60 s/);
  assert.match(shown, /Failures by reason: not_json 25, invalid_t 5 /);
  assert.doesNotMatch(shown, /too_large/, "reasons without failures are left out");
  assert.match(shown, /Last message 12 s ago \(2024-03-01T10:19:48Z\)/);
  assert.match(shown, /Newest reading 2024-03-01T10:15:00Z, lag 5 min 0 s/);
  assert.match(shown, /Running since 2024-03-01T08:00:00Z \(2 h 20 min\)/);
  assert.match(shown, /ammp-agent 1\.2\.3/);
  for (const path of ["/metrics", "/healthz", "/readyz"]) {
    assert.ok(html.includes(`<a href="${path}">${path}</a>`), path);
  }
});

Deno.test("renderStatusPage() names the host in the title and the heading", () => {
  const html = renderStatusPage(snapshot({ host: "gw-kenya-07" }));
  assert.match(html, /<title>gw-kenya-07 · ammp-agent<\/title>/);
  assert.match(text(html), /ammp-agent on gw-kenya-07 1\.2\.3/);
  const nameless = renderStatusPage(snapshot({ host: undefined }));
  assert.match(nameless, /<title>ammp-agent<\/title>/);
});

Deno.test("renderStatusPage() keeps each time on one line", () => {
  const html = renderStatusPage(snapshot());
  for (const time of ["2024-03-01T10:17:00Z", "2024-03-01T10:19:48Z", "2024-03-01T08:00:00Z"]) {
    assert.ok(html.includes(`<span class="t">${time}</span>`), time);
  }
  assert.match(html, /\.t\{white-space:nowrap\}/);
});

Deno.test("renderStatusPage() says when the agent is not connected, and what it has not seen yet", () => {
  const shown = text(renderStatusPage(snapshot({
    connected: false,
    subscribed: false,
    connectionSince: new Date("2024-03-01T10:19:00Z"),
    totals: { received: 0, records: 0, failed: 0, ignored: 0 },
    failedByReason: { not_json: 0 },
    rates: undefined,
    lastMessageAt: undefined,
    newestReadingAt: undefined,
  })));
  assert.match(shown, /Connection not connected since 2024-03-01T10:19:00Z \(1 min 0 s\)/);
  assert.match(shown, /Messages received 0 –/);
  assert.doesNotMatch(shown, /last 60 s/);
  assert.doesNotMatch(shown, /Failures by reason/);
  assert.match(shown, /Last message none yet/);
  assert.match(shown, /Newest reading none yet/);

  const subscribing = text(renderStatusPage(snapshot({ subscribed: false })));
  assert.match(subscribing, /connected, not subscribed since/);
  const ahead = text(renderStatusPage(snapshot({
    newestReadingAt: new Date("2024-03-01T10:22:00Z"),
  })));
  assert.match(ahead, /lag 2 min 0 s ahead of this clock/);
});

Deno.test("renderStatusPage() escapes every value and loads nothing from elsewhere", () => {
  const evil = `<script src="https://x.example/a.js">"&'</script>`;
  const html = renderStatusPage(snapshot({
    version: evil,
    broker: evil,
    clientId: evil,
    topics: [evil],
    failedByReason: { [evil]: 1 },
    host: evil,
  }));
  assert.ok(!html.includes("<script"), "no script element");
  assert.ok(!html.includes(evil));
  assert.equal(html.split(escapeHtml(evil)).length - 1, 7, "each value shown escaped");
  assert.doesNotMatch(html, /<(link|img|iframe|object|embed)\b/i);
  assert.doesNotMatch(html, /\b(src|href)="(?!\/)/, "links stay on the agent");
  assert.doesNotMatch(html, /url\(/, "styles load nothing");
});

Deno.test("escapeHtml() replaces the characters that end text or attribute values", () => {
  assert.equal(
    escapeHtml(`<a href="x">'&'</a>`),
    "&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;",
  );
  assert.equal(escapeHtml("a/+/u/data"), "a/+/u/data");
});

Deno.test("formatDuration() reads in seconds, minutes, hours and days", () => {
  assert.equal(formatDuration(0.4), "0 s");
  assert.equal(formatDuration(59.9), "59 s");
  assert.equal(formatDuration(185), "3 min 5 s");
  assert.equal(formatDuration(2 * 3600 + 10 * 60 + 59), "2 h 10 min");
  assert.equal(formatDuration(3 * 86400 + 4 * 3600), "3 d 4 h");
});

Deno.test("RecentRates gives per-second rates over the last minute and forgets older samples", () => {
  const rates = new RecentRates({ windowSeconds: 60, minSeconds: 5 });
  const totals = (received: number, failed = 0) => ({
    received,
    records: received - failed,
    failed,
    ignored: 0,
  });
  assert.equal(rates.rates(10_000, totals(5)), undefined, "no rate without a sample");
  rates.add(0, totals(0));
  assert.equal(rates.rates(4_000, totals(8)), undefined, "no rate over less than 5 s");
  assert.deepEqual(rates.rates(30_000, totals(60, 6)), {
    seconds: 30,
    perSecond: { received: 2, records: 1.8, failed: 0.2, ignored: 0 },
  });
  rates.add(30_000, totals(60, 6));
  rates.add(60_000, totals(90, 6));
  // At 90 s the sample at 30 s is the window's start; the one at 0 s goes.
  rates.add(90_000, totals(240, 6));
  assert.deepEqual(rates.rates(90_000, totals(240, 6)), {
    seconds: 60,
    perSecond: { received: 3, records: 3, failed: 0, ignored: 0 },
  });
  assert.equal(rates.rates(100_000, totals(270, 6))!.seconds, 70, "from the oldest kept sample");
  rates.add(80_000, totals(999));
  rates.add(150_000, totals(420, 6));
  assert.equal(
    rates.rates(150_000, totals(420, 6))!.perSecond.received,
    3,
    "a sample older than the newest is dropped",
  );
});
