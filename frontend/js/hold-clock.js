// Time left on a hold, by the server's clock: the browser's wall clock may be minutes wrong and
// must not decide. The clock is anchored to an estimate of the server's time at the moment an
// answer arrived, and runs on from there by performance.now() (monotonic: it does not jump when
// the computer's clock is set). No DOM, no fetch.
//
// The estimate is the larger of two lower bounds of "the server's now, as the answer arrived":
// - a fresh hold's expiresAt minus the show's holdMinutes: the database's now() in the hold's
//   own transaction (milliseconds, short of the truth only by the answer's way back);
// - the answer's HTTP Date header: the server's time as it answered, cut to the second.
// A replayed hold (a retry with the same Idempotency-Key) carries its first expiresAt, so the
// first bound is then too early and the Date header wins; a fresh hold's first bound usually
// wins, by up to a second. Either way the countdown can only run a little long, never short, and when it
// reaches zero the page asks the server (GET /holds/{id}) rather than trusting itself.

const now = () => performance.now();

/** "2030-05-01T19:30:00.123456Z" -> ms; the API sends microseconds, Date.parse wants three digits at most. */
export function parseInstant(iso) {
  return typeof iso === "string" ? Date.parse(iso.replace(/(\.\d{3})\d+/, "$1")) : NaN;
}

export class HoldClock {
  /** hold: the API's Hold (its expiresAt); holdMinutes: the show's; serverDate: the answer's
   *  Date header in ms (NaN when there was none). Made as the answer arrives. */
  constructor(hold, { holdMinutes, serverDate }) {
    this.expiresAt = parseInstant(hold.expiresAt);
    let serverNow = best(holdMinutes > 0 ? this.expiresAt - holdMinutes * 60_000 : NaN, serverDate);
    // Only with no clue from the server at all (no hold length, no Date header): the browser's.
    if (!Number.isFinite(serverNow)) serverNow = Date.now();
    this.serverAt = serverNow;
    this.localAt = now();
  }

  /** The server's time now, as best known. */
  serverNow() {
    return this.serverAt + (now() - this.localAt);
  }

  /** Milliseconds left (negative once past). */
  remaining() {
    return this.expiresAt - this.serverNow();
  }

  /** A later answer about the hold (GET): its expiresAt is the server's word, and its Date header
   *  may tighten the estimate of the server's time. */
  update(hold, serverDate) {
    const expiresAt = parseInstant(hold.expiresAt);
    if (Number.isFinite(expiresAt)) this.expiresAt = expiresAt;
    const projected = this.serverNow();
    if (Number.isFinite(serverDate) && serverDate > projected) {
      this.serverAt = serverDate;
      this.localAt = now();
    }
  }
}

function best(...bounds) {
  const known = bounds.filter(Number.isFinite);
  return known.length ? Math.max(...known) : NaN;
}

/** 125_000 -> "2:05"; whole seconds, rounded up, so "0:00" means the time is up. */
export function formatCountdown(ms) {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}
