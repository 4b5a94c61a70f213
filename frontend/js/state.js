// The model: what the page knows, and the rules for changing it. No DOM, no fetch.
// A seat's displayed state is derived: BOOKED from the server, else "pending" while our own
// booking request is in flight, else "selected" when picked, else "available".

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

export function seatLabel(seat) {
  return `Row ${seat.row} seat ${seat.number}`;
}

/** "Row A seats 1, 2 · Row B seat 4" for a list of seats in map order. */
export function describeSeats(seats) {
  const rows = new Map();
  for (const seat of seats) {
    if (!rows.has(seat.row)) rows.set(seat.row, []);
    rows.get(seat.row).push(seat.number);
  }
  return Array.from(rows, ([row, numbers]) =>
    `Row ${row} seat${numbers.length > 1 ? "s" : ""} ${numbers.join(", ")}`).join(" · ");
}

/** Checks a user id the way the API does (1–64 characters, no control characters). */
export function userIdProblem(value) {
  if (!value) return "Please enter your name or e-mail.";
  if (value.length > MAX_USER_ID_LENGTH) return `Please keep it to ${MAX_USER_ID_LENGTH} characters.`;
  if (/[\u0000-\u001f\u007f-\u009f]/.test(value)) return "Please use printable characters only.";
  return null;
}

export class Store {
  constructor(storage = window.localStorage) {
    this.storage = storage;
    this.userId = readStorage(storage, USER_KEY, "") || "";
    this.shows = null;             // upcoming shows, null until loaded
    this.clearShow();
  }

  // --- the open show -------------------------------------------------------------------

  clearShow() {
    this.show = null;
    this.seats = new Map();        // id -> {id, row, number, status}, in map order
    this.etag = null;
    this.selected = new Set();     // seat ids picked by this user
    this.pending = new Set();      // seat ids of our booking request in flight
    this.attempt = null;           // {fingerprint, key} of the last unanswered booking request
  }

  openShow(show) {
    this.clearShow();
    this.show = show;
  }

  /**
   * Applies a fresh seat map. Returns the seats this user had selected that someone else has
   * since booked; they leave the selection.
   */
  applySeats(seats, etag) {
    this.seats = new Map(seats.map((seat) => [seat.id, { ...seat }]));
    this.etag = etag;
    const lost = [];
    for (const id of this.selected) {
      const seat = this.seats.get(id);
      if (!seat || seat.status === "BOOKED") {
        this.selected.delete(id);
        if (seat) lost.push(seat);
      }
    }
    return lost;
  }

  seatState(id) {
    const seat = this.seats.get(id);
    if (!seat) return null;
    if (this.pending.has(id)) return "pending";
    if (seat.status === "BOOKED") return "booked";
    return this.selected.has(id) ? "selected" : "available";
  }

  get availableCount() {
    let count = 0;
    for (const seat of this.seats.values()) if (seat.status !== "BOOKED") count += 1;
    return count;
  }

  get hasStarted() {
    return Boolean(this.show) && Date.parse(this.show.startTime) <= Date.now();
  }

  /** Selected seats in map order (rows, then numbers), which is how people read them. */
  selectedSeats() {
    return Array.from(this.seats.values()).filter((seat) => this.selected.has(seat.id));
  }

  /** Toggles a seat; returns "selected", "deselected", "full" (10 already) or "unavailable". */
  toggleSeat(id) {
    const state = this.seatState(id);
    if (state === "selected") {
      this.selected.delete(id);
      return "deselected";
    }
    if (state !== "available" || this.pending.size > 0) return "unavailable";
    if (this.selected.size >= MAX_SEATS) return "full";
    this.selected.add(id);
    return "selected";
  }

  get bookingInFlight() {
    return this.pending.size > 0;
  }

  /**
   * Starts booking the selection: the seats turn "pending" at once (the optimistic part).
   * A retry of the very same request after no answer reuses its Idempotency-Key, so a booking
   * that did go through is answered again instead of being refused as taken by ourselves.
   */
  beginBooking(newKey) {
    const seatIds = this.selectedSeats().map((seat) => seat.id);
    const fingerprint = JSON.stringify([this.show.id, this.userId, seatIds]);
    const key = this.attempt && this.attempt.fingerprint === fingerprint ? this.attempt.key : newKey();
    this.attempt = { fingerprint, key };
    this.pending = new Set(seatIds);
    return { seatIds, key };
  }

  /** 201: the seats are ours and booked. */
  bookingConfirmed(booking) {
    for (const id of this.pending) {
      const seat = this.seats.get(id);
      if (seat) seat.status = "BOOKED";
      this.selected.delete(id);
    }
    this.pending = new Set();
    this.attempt = null;
    this.etag = null;  // the map changed; fetch it whole next time
    this.rememberBooking(booking);
  }

  /** 409 SEAT_UNAVAILABLE: the taken seats turn booked, the rest stay selected. */
  bookingRefused(takenIds) {
    const taken = [];
    for (const id of takenIds) {
      const seat = this.seats.get(id);
      if (!seat) continue;
      seat.status = "BOOKED";
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

  rememberBooking(booking) {
    const entry = {
      id: booking.id,
      token: booking.bookingToken,
      showId: booking.showId,
      showName: this.show ? this.show.name : "",
      startTime: this.show ? this.show.startTime : null,
      createdAt: booking.createdAt,
    };
    const others = this.bookings.filter((known) => known.id !== booking.id);
    writeStorage(this.storage, BOOKINGS_KEY, [entry, ...others]);
  }

  forgetBooking(id) {
    writeStorage(this.storage, BOOKINGS_KEY, this.bookings.filter((known) => known.id !== id));
  }
}
