// The model: what the page knows, and the rules for changing it. No DOM, no fetch.
// The room (venue.js) is fixed; each seat's status comes from the availability string. A seat's
// displayed state is derived: "pending" while our own request to hold it is in flight, "yours"
// while our checkout holds it, else "booked" or "held" from the server, else "selected" when
// picked, else "available".

export const MAX_SEATS = 10;
export const MAX_USER_ID_LENGTH = 64;

const USER_KEY = "modex.userId";
const BOOKINGS_KEY = "modex.bookings";

function readStorage(storage, key, fallback) {
  try {
    const raw = storage.getItem(key);
    return raw === null ? fallback : JSON.parse(raw);
  } catch (error) {
    return fallback;  // storage disabled or a corrupt value: start afresh
  }
}

function writeStorage(storage, key, value) {
  try {
    storage.setItem(key, JSON.stringify(value));
  } catch (error) {
    // Private mode or full storage: the page still works, it just forgets on reload.
  }
}

/** "Row A seats 1, 2 · Row B seat 4" for seats in map order; with `sections`, each group starts
 *  with its section: "Stalls, Row A seats 1, 2 · Circle, Row B seat 4". */
export function describeSeats(seats, { sections = false } = {}) {
  const groups = new Map();
  for (const seat of seats) {
    const place = `${sections && seat.section ? `${seat.section}, ` : ""}Row ${seat.row}`;
    if (!groups.has(place)) groups.set(place, []);
    groups.get(place).push(seat.number);
  }
  return Array.from(groups, ([place, numbers]) =>
    `${place} seat${numbers.length > 1 ? "s" : ""} ${numbers.join(", ")}`).join(" · ");
}

/** Checks a user id the way the API does (1–64 characters, no control characters). */
export function userIdProblem(value) {
  if (!value) return "Please enter your name or e-mail.";
  if (value.length > MAX_USER_ID_LENGTH) return `Please keep it to ${MAX_USER_ID_LENGTH} characters.`;
  if (/[\u0000-\u001f\u007f-\u009f]/.test(value)) return "Please use printable characters only.";
  return null;
}

function countsById(ids, counts) {
  return new Map(ids.map((id, index) => [id, counts[index]]));
}

// Seat statuses as the availability string spells them.
const AVAILABLE = "A".charCodeAt(0);
const HELD = "H".charCodeAt(0);
const BOOKED = "B".charCodeAt(0);

export class Store {
  constructor(storage = window.localStorage, now = Date.now()) {
    this.storage = storage;
    this.userId = readStorage(storage, USER_KEY, "") || "";
    this.forgetPastBookings(now);
    this.clearShow();
  }

  // --- the open show -------------------------------------------------------------------

  clearShow() {
    this.show = null;
    this.venue = null;             // the room (venue.js), fixed for the show's life
    this.statuses = new Uint8Array(0);  // per seat in layout order: A, H or B
    this.etag = null;              // of the last availability read
    this.zoom = null;              // the section shown on its own in a big room, or null
    this.accessibleOnly = false;   // the wheelchair places filter
    this.selected = new Set();     // seat ids picked by this user
    this.pending = new Set();      // seat ids of our hold request in flight
    this.attempt = null;           // {fingerprint, key} of the last unanswered hold request
    this.seeking = false;          // a best-available request in flight (its seats are the server's to pick)
    this.hold = null;              // the open checkout: {id, token, showId, userId, seats, seatIds, total, confirming}
  }

  openShow(show, venue) {
    this.clearShow();
    this.show = show;
    this.venue = venue;
    this.statuses = new Uint8Array(venue.seats.length).fill(AVAILABLE);
  }

  get maxSeats() {
    const limit = this.show && Number(this.show.maxSeatsPerUser);
    return limit > 0 ? Math.min(MAX_SEATS, limit) : MAX_SEATS;
  }

  /**
   * Applies a fresh availability string (one character per seat, layout order). Returns the
   * seats this user had selected that someone else has since booked or held; they leave the
   * selection.
   */
  applyAvailability(statuses, etag) {
    const count = Math.min(statuses.length, this.statuses.length);
    for (let index = 0; index < count; index += 1) this.statuses[index] = statuses.charCodeAt(index);
    this.etag = etag;
    const lost = [];
    for (const id of this.selected) {
      const seat = this.venue.byId.get(id);
      if (!seat || this.statuses[seat.index] !== AVAILABLE) {
        this.selected.delete(id);
        if (seat) lost.push(seat);
      }
    }
    return lost;
  }

  seatState(id) {
    const seat = this.venue && this.venue.byId.get(id);
    if (!seat) return null;
    if (this.pending.has(id)) return "pending";
    if (this.hold && this.hold.seatIds.has(id)) return "yours";
    const status = this.statuses[seat.index];
    if (status === BOOKED) return "booked";
    if (status === HELD) return "held";
    return this.selected.has(id) ? "selected" : "available";
  }

  get availableCount() {
    let count = 0;
    for (const status of this.statuses) if (status === AVAILABLE) count += 1;
    return count;
  }

  /** Seats left per section and per category: [{available, accessible, byCategory: Map}] in
   *  layout order, and the whole room's byCategory. One pass over the statuses. */
  availability() {
    const { categoryIds, seatCategory, seatAccessible } = this.venue;
    const statuses = this.statuses;
    const room = new Int32Array(categoryIds.length);
    const sections = this.venue.sections.map((section) => {
      const counts = new Int32Array(categoryIds.length);
      let available = 0;
      let accessible = 0;
      const end = section.first + section.count;
      for (let index = section.first; index < end; index += 1) {
        if (statuses[index] !== AVAILABLE) continue;
        available += 1;
        accessible += seatAccessible[index];
        counts[seatCategory[index]] += 1;
      }
      counts.forEach((count, category) => { room[category] += count; });
      return { available, accessible, byCategory: countsById(categoryIds, counts) };
    });
    return { sections, byCategory: countsById(categoryIds, room) };
  }

  get hasStarted() {
    return Boolean(this.show) && Date.parse(this.show.startTime) <= Date.now();
  }

  /** Selected seats in layout order (sections, rows, numbers), which is how people read them. */
  selectedSeats() {
    return this.seatsOf(this.selected);
  }

  seatsOf(ids) {
    return Array.from(ids, (id) => this.venue.byId.get(id)).filter(Boolean).sort((a, b) => a.index - b.index);
  }

  /** What the selected seats cost, in minor units. */
  get selectionTotal() {
    return this.selectedSeats().reduce((sum, seat) => sum + this.venue.price(seat), 0);
  }

  /** Toggles a seat; returns "selected", "deselected", "full" (the most already) or "unavailable". */
  toggleSeat(id) {
    const state = this.seatState(id);
    if (state === "selected") {
      this.selected.delete(id);
      return "deselected";
    }
    if (state !== "available" || this.pending.size > 0 || this.hold) return "unavailable";
    if (this.selected.size >= this.maxSeats) return "full";
    this.selected.add(id);
    return "selected";
  }

  /** A request of ours is changing seats (a hold being made, or confirmed): the availability
   *  poll waits for its answer, which updates the map itself. */
  get bookingInFlight() {
    return this.pending.size > 0 || this.seeking || Boolean(this.hold && this.hold.confirming);
  }

  /**
   * Starts holding the selection (Book): the seats turn "pending" at once (the optimistic part).
   * A retry of the very same request after no answer reuses its Idempotency-Key, so a hold that
   * did go through is answered again instead of being refused as taken by ourselves.
   */
  beginBooking(newKey) {
    const seatIds = this.selectedSeats().map((seat) => seat.id);
    const fingerprint = JSON.stringify([this.show.id, this.userId, seatIds]);
    const key = this.attempt && this.attempt.fingerprint === fingerprint ? this.attempt.key : newKey();
    this.attempt = { fingerprint, key };
    this.pending = new Set(seatIds);
    return { seatIds, key };
  }

  /** Starts a best-available request (`best`: {count, category?, accessible?}); no seat changes
   *  until the server says which. A retry of the same request reuses its Idempotency-Key, as
   *  beginBooking's does. */
  beginBest(best, newKey) {
    const fingerprint = JSON.stringify([this.show.id, this.userId, "best", best]);
    const key = this.attempt && this.attempt.fingerprint === fingerprint ? this.attempt.key : newKey();
    this.attempt = { fingerprint, key };
    this.seeking = true;
    return key;
  }

  /** 201: the checkout opens on the hold's seats, which leave the selection. */
  holdMade(hold) {
    const seatIds = new Set(hold.seats.map((seat) => String(seat.id)));
    for (const id of seatIds) {
      this.selected.delete(id);
      this.setStatus(id, HELD);
    }
    this.hold = {
      id: hold.id, token: hold.holdToken, showId: hold.showId, userId: hold.userId,
      seats: this.seatsOf(seatIds), seatIds, total: hold.total, confirming: false,
    };
    this.pending = new Set();
    this.seeking = false;
    this.attempt = null;
    this.etag = null;  // the room changed; read it whole next time
  }

  /** Whether the availability string says that a seat of our hold is no longer held by anyone:
   *  the hold has lapsed or been released (or the seats were taken over and booked). */
  holdLooksGone() {
    if (!this.hold) return false;
    for (const seat of this.hold.seats) if (this.statuses[seat.index] !== HELD) return true;
    return false;
  }

  /** The hold is confirmed (201): its seats are ours and booked (the booking is remembered by
   *  the caller, as soon as its answer comes). */
  holdConfirmed() {
    for (const id of this.hold.seatIds) this.setStatus(id, BOOKED);
    this.hold = null;
    this.etag = null;
  }

  /**
   * The checkout closes without a booking: released by us, or lapsed. Its seats read available
   * (unless `freed` is false: a release that got no answer) until the next refresh says
   * otherwise; with `reselect` (Cancel) they are picked again, so that the buyer can change the
   * selection and Book again.
   */
  holdEnded({ reselect = false, freed = true } = {}) {
    const seats = this.hold ? this.hold.seats : [];
    for (const seat of seats) {
      if (!freed) continue;
      this.statuses[seat.index] = AVAILABLE;
      if (reselect && this.selected.size < this.maxSeats) this.selected.add(seat.id);
    }
    this.hold = null;
    this.etag = null;
    return seats;
  }

  setStatus(id, status) {
    const seat = this.venue.byId.get(id);
    if (seat) this.statuses[seat.index] = status;
  }

  /** 409 SEAT_UNAVAILABLE: the taken seats turn held (most likely someone's checkout; the
   *  refresh that follows says for sure), the rest stay selected. */
  bookingRefused(takenIds) {
    const taken = [];
    for (const id of takenIds) {
      const seat = this.venue.byId.get(id);
      if (!seat) continue;
      this.statuses[seat.index] = HELD;
      this.selected.delete(id);
      taken.push(seat);
    }
    this.pending = new Set();
    this.attempt = null;
    this.etag = null;
    return taken;
  }

  /** No answer or a 5xx: everything goes back to how it was; the key is kept for a retry. */
  bookingFailed({ keepKey }) {
    this.pending = new Set();
    this.seeking = false;
    if (!keepKey) this.attempt = null;
  }

  // --- the user ------------------------------------------------------------------------

  setUserId(value) {
    this.userId = value;
    writeStorage(this.storage, USER_KEY, value);
  }

  // --- this browser's bookings ---------------------------------------------------------

  get bookings() {
    const list = readStorage(this.storage, BOOKINGS_KEY, []);
    return Array.isArray(list) ? list.filter((entry) => entry && entry.id && entry.token) : [];
  }

  /** Keeps a booking (its id and token) in this browser's list; `show` and `venue` are those it
   *  was made in (the open show's, unless the buyer has left it meanwhile). */
  rememberBooking(booking, show = this.show, venue = this.venue) {
    const entry = {
      id: booking.id,
      token: booking.bookingToken,
      showId: booking.showId,
      showName: show ? show.name : "",
      startTime: show ? show.startTime : null,
      sections: Boolean(venue && venue.multiSection),  // name the section of each seat
      createdAt: booking.createdAt,
    };
    const others = this.bookings.filter((known) => known.id !== booking.id);
    writeStorage(this.storage, BOOKINGS_KEY, [entry, ...others]);
  }

  /** Drops a booking's token from this browser: it was cancelled, or removed from the list. */
  forgetBooking(id) {
    writeStorage(this.storage, BOOKINGS_KEY, this.bookings.filter((known) => known.id !== id));
  }

  /** Drops the tokens of bookings whose show has started (by this browser's clock): a token
   *  opens and cancels its booking, and once the show is past there is nothing left to do with
   *  it, so it is not left lying in storage. */
  forgetPastBookings(now = Date.now()) {
    const kept = this.bookings.filter((known) => !(Date.parse(known.startTime) <= now));
    if (kept.length !== this.bookings.length) writeStorage(this.storage, BOOKINGS_KEY, kept);
  }
}
