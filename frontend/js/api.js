// The HTTP API (contract: /api). Every call has a timeout; every failure becomes an ApiError
// whose `status` is 0 for network trouble, so callers branch on values, not on exceptions' text.

const config = window.MODEX_CONFIG || {};
const API_BASE = String(config.apiBase || "/api").replace(/\/+$/, "");
const TIMEOUT_MS = 10000;
const LAYOUT_TIMEOUT_MS = 60000;  // an 80,000-seat room is a few MB, once per show (then cached)

export class ApiError extends Error {
  constructor(status, code, message, body = null) {
    super(message);
    this.status = status;   // 0: no answer (offline, timeout, aborted)
    this.code = code;       // the contract's error code, e.g. SEAT_UNAVAILABLE
    this.body = body;
  }

  /** True when trying the same request again may work: no answer, 5xx, or throttled. */
  get retryable() {
    return this.status === 0 || this.status >= 500 || this.status === 429;
  }
}

async function request(method, path, { body, headers = {}, timeout = TIMEOUT_MS, cache = "no-store", keepalive = false } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeout);
  const init = { method, headers: { Accept: "application/json", ...headers }, signal: controller.signal, cache };
  if (keepalive) init.keepalive = true;  // outlives the page: a release sent while it unloads
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(API_BASE + path, init);
  } catch (error) {
    throw new ApiError(0, "NETWORK", "We couldn't reach Modex. Check your connection.");
  } finally {
    clearTimeout(timer);
  }
  if (response.status === 304) return { status: 304, headers: response.headers, data: null };
  let data = null;
  try {
    data = await response.json();
  } catch (error) {
    data = null;  // a gateway page or an empty body; the status still says what happened
  }
  if (!response.ok) {
    const code = (data && data.error) || `HTTP_${response.status}`;
    const message = (data && data.message) || `The server answered ${response.status}.`;
    throw new ApiError(response.status, code, message, data);
  }
  return { status: response.status, headers: response.headers, data };
}

const enc = encodeURIComponent;

/** One page of upcoming shows, soonest first: `{shows, nextCursor}`; pass `nextCursor` back for
 *  the next page (null on the last). */
export async function listShows(cursor = null) {
  return (await request("GET", cursor ? `/shows?cursor=${enc(cursor)}` : "/shows")).data;
}

export async function getShow(showId) {
  return (await request("GET", `/shows/${enc(showId)}`)).data;
}

/** The room: sections, rows, seats (id, number, category, accessible). Immutable for the life
 *  of the show, so the browser's cache may answer (the server says `immutable`). */
export async function getLayout(showId) {
  return (await request("GET", `/shows/${enc(showId)}/layout`, { cache: "default", timeout: LAYOUT_TIMEOUT_MS })).data;
}

/** One character per seat in layout order (A available, H held, B booked), or
 *  `{notModified: true}` when `etag` is still current (304). */
export async function getAvailability(showId, etag) {
  const headers = etag ? { "If-None-Match": etag } : {};
  const { status, headers: responseHeaders, data } = await request("GET", `/shows/${enc(showId)}/availability`, { headers });
  if (status === 304) return { notModified: true };
  return { notModified: false, etag: responseHeaders.get("ETag"), statuses: data.statuses };
}

// --- holds (checkout) ---------------------------------------------------------------------
// A hold answer comes with `serverDate`: the HTTP Date header (ms, or NaN when absent or not
// readable cross-origin), one of the clues to the server's clock (hold-clock.js).

function serverDate(headers) {
  const value = headers.get("Date");
  return value ? Date.parse(value) : NaN;
}

/** 201: `{hold, serverDate}`; a hold is `{id, showId, userId, status, seats, expiresAt, total, holdToken}`. */
export async function holdSeats(showId, userId, seatIds, idempotencyKey) {
  const { headers, data } = await request("POST", `/shows/${enc(showId)}/holds`, {
    body: { userId, seatIds },
    headers: { "Idempotency-Key": idempotencyKey },
  });
  return { hold: data, serverDate: serverDate(headers) };
}

/** Best available: the server picks `best.count` adjacent seats (optionally of `best.category`,
 *  or wheelchair places with `best.accessible`) and holds them; the answer is a Hold like
 *  holdSeats's, or 409 NOT_ENOUGH_SEATS. */
export async function holdBest(showId, userId, best, idempotencyKey) {
  const { headers, data } = await request("POST", `/shows/${enc(showId)}/holds`, {
    body: { userId, best },
    headers: { "Idempotency-Key": idempotencyKey },
  });
  return { hold: data, serverDate: serverDate(headers) };
}

/** The hold as of now (status ACTIVE, EXPIRED, CONFIRMED or RELEASED): `{hold, serverDate}`. */
export async function getHold(holdId, token) {
  const { headers, data } = await request("GET", `/holds/${enc(holdId)}`, { headers: { Authorization: `Bearer ${token}` } });
  return { hold: data, serverDate: serverDate(headers) };
}

/** 201 Booking (with its bookingToken); idempotent by the hold's state, so a retry is safe. */
export async function confirmHold(holdId, token) {
  return (await request("POST", `/holds/${enc(holdId)}/confirm`, { body: {}, headers: { Authorization: `Bearer ${token}` } })).data;
}

/** Releases the hold (its seats are free at once); `keepalive` for a release sent while the page unloads. */
export async function releaseHold(holdId, token, { keepalive = false } = {}) {
  return (await request("DELETE", `/holds/${enc(holdId)}`, { headers: { Authorization: `Bearer ${token}` }, keepalive })).data;
}

// --- bookings ------------------------------------------------------------------------------

export async function getBooking(bookingId, token) {
  return (await request("GET", `/bookings/${enc(bookingId)}`, { headers: { Authorization: `Bearer ${token}` } })).data;
}

export async function cancelBooking(bookingId, token) {
  return (await request("DELETE", `/bookings/${enc(bookingId)}`, { headers: { Authorization: `Bearer ${token}` } })).data;
}

/** A fresh Idempotency-Key; randomUUID needs a secure context, so plain-http LAN addresses fall back. */
export function newIdempotencyKey() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
  const bytes = window.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
