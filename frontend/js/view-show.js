// The view of one show (#show-view): its header, the seat map, and the booking form with its
// selection, the user's name, the Book button and the status/alert messages.

import { MAX_SEATS, describeSeats, seatLabel } from "./state.js";
import { el, formatTime, part, plural, setTitle, showMessage } from "./dom.js";
import { RovingFocus } from "./roving-focus.js";

const STATE_WORDS = { available: "available", selected: "selected", booked: "booked", pending: "being booked" };
const SEAT = "button[data-seat-id]";

export class ShowView {
  constructor(root) {
    this.root = root;
    this.form = part(root, "booking-form");
    this.rows = part(root, "rows");
    this.bookButton = part(root, "book");
    this.userInput = root.querySelector("#user-id");
    this.seatButtons = new Map();   // seat id -> button
    this.roving = new RovingFocus(this.rows, SEAT);
    this.editingUser = false;       // the name field is open although a name is known
  }

  // --- the show and its seat map -------------------------------------------------------

  renderLoading() {
    const root = this.root;
    part(root, "name").textContent = "Loading show…";
    part(root, "time").textContent = "";
    part(root, "seats-left").textContent = "";
    part(root, "problem").hidden = true;
    part(root, "layout").hidden = true;
    this.rows.replaceChildren();
    this.seatButtons = new Map();
    this.roving.reset();
    this.clearMessages();
  }

  renderProblem(message) {
    const root = this.root;
    part(root, "name").textContent = "Show unavailable";
    const problem = part(root, "problem");
    problem.hidden = false;
    problem.textContent = message;
    part(root, "layout").hidden = true;
  }

  renderHeader(show) {
    part(this.root, "name").textContent = show.name;
    const time = part(this.root, "time");
    time.dateTime = show.startTime;
    time.textContent = formatTime(show.startTime);
    setTitle(show.name);
  }

  /** Builds the seat buttons once per show; later changes only touch their attributes. */
  buildSeatMap(store) {
    this.rows.replaceChildren();
    this.seatButtons = new Map();
    const grid = [];   // the buttons row by row, for the arrow keys
    const byRow = new Map();
    for (const seat of store.seats.values()) {
      if (!byRow.has(seat.row)) byRow.set(seat.row, []);
      byRow.get(seat.row).push(seat);
    }
    for (const [row, seats] of byRow) {
      const rowButtons = [];
      const seatList = el("div", { class: "row-seats" });
      for (const seat of seats) {
        const button = el("button", { type: "button", class: "seat", "data-seat-id": seat.id },
          el("span", { class: "seat-number", text: String(seat.number) }));
        seatList.append(button);
        this.seatButtons.set(seat.id, button);
        rowButtons.push(button);
      }
      grid.push(rowButtons);
      this.rows.append(el("div", { class: "seat-row", role: "group", "aria-label": `Row ${row}` },
        el("span", { class: "row-label", "aria-hidden": "true", text: row }),
        seatList,
        el("span", { class: "row-label", "aria-hidden": "true", text: row })));
    }
    this.roving.reset(grid);
    part(this.root, "layout").hidden = false;
    this.updateSeats(store);
  }

  /** Brings every seat button, the seats-left count and the panel in line with the model. */
  updateSeats(store) {
    for (const [id, button] of this.seatButtons) {
      const state = store.seatState(id);
      if (button.dataset.state === state) continue;
      const seat = store.seats.get(id);
      button.dataset.state = state;
      button.className = `seat seat-${state}`;
      button.setAttribute("aria-label", `${seatLabel(seat)}, ${STATE_WORDS[state]}`);
      button.setAttribute("aria-pressed", String(state === "selected" || state === "pending"));
      button.disabled = state === "booked" || state === "pending";
    }
    this.roving.sync();
    const left = store.availableCount;
    part(this.root, "seats-left").textContent =
      left === 0 ? "Sold out" : `${plural(left, "seat")} left of ${store.seats.size}`;
    this.renderPanel(store);
  }

  bindSeatToggle(handler) {
    this.rows.addEventListener("click", (event) => {
      const button = event.target.closest(SEAT);
      if (!button || button.disabled) return;
      this.roving.remember(button);
      handler(button.dataset.seatId);
    });
  }

  // --- the booking form ----------------------------------------------------------------

  renderPanel(store) {
    const root = this.root;
    const chosen = store.bookingInFlight
      ? Array.from(store.seats.values()).filter((seat) => store.pending.has(seat.id))
      : store.selectedSeats();
    const count = chosen.length;
    part(root, "selection-count").textContent = count === 0
      ? `No seats selected. Pick up to ${MAX_SEATS}.`
      : `${plural(count, "seat")} ${store.bookingInFlight ? "being booked" : "selected"}${count >= MAX_SEATS ? " (the most per booking)" : ""}`;
    const list = part(root, "selection-list");
    list.replaceChildren(...chosen.map((seat) => el("li", { text: seatLabel(seat) })));

    const known = Boolean(store.userId) && !this.editingUser;
    part(root, "user-known").hidden = !known;
    part(root, "user-ask").hidden = known;
    part(root, "user-name").textContent = store.userId;

    const closed = store.hasStarted;
    part(root, "closed").hidden = !closed;
    this.bookButton.disabled = closed || count === 0 || store.bookingInFlight;
    this.bookButton.textContent = store.bookingInFlight ? "Booking…"
      : count === 0 ? "Book" : `Book ${plural(count, "seat")}`;
    this.bookButton.setAttribute("aria-busy", String(store.bookingInFlight));
  }

  /** handler(typed user id, or null when the known one is used). */
  bindBook(handler) {
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      handler(this.editingUser || !part(this.root, "user-ask").hidden ? this.userInput.value.trim() : null);
    });
  }

  bindChangeUser(handler) {
    part(this.root, "change-user").addEventListener("click", () => handler());
  }

  editUser(store) {
    this.editingUser = true;
    this.userInput.value = store.userId;
    this.renderPanel(store);
    this.userInput.focus();
    this.userInput.select();
  }

  doneEditingUser() {
    this.editingUser = false;
    this.showUserProblem(null);
  }

  showUserProblem(problem) {
    const error = part(this.root, "user-error");
    error.hidden = !problem;
    error.textContent = problem || "";
    if (problem) {
      this.userInput.setAttribute("aria-invalid", "true");
      this.userInput.focus();
    } else {
      this.userInput.removeAttribute("aria-invalid");
    }
  }

  // --- messages ------------------------------------------------------------------------

  clearMessages() {
    showMessage(part(this.root, "status"));
    showMessage(part(this.root, "alert"));
  }

  showConfirmation(booking, show) {
    showMessage(part(this.root, "alert"));
    const seats = el("p", { class: "booking-seats", text: describeSeats(booking.seats) });
    const reference = el("p", { class: "booking-ref" }, "Booking ", el("code", { text: booking.id }),
      " for ", el("span", { text: booking.userId }), ".");
    const link = el("p", {}, el("a", { href: "?view=bookings", "data-nav": "bookings", text: "See My bookings" }),
      " to view or cancel it.");
    showMessage(part(this.root, "status"), `Booked! ${show.name}`, seats, reference, link);
  }

  showAlert(headline, ...detail) {
    showMessage(part(this.root, "status"));
    showMessage(part(this.root, "alert"), headline, ...detail);
  }

  /**
   * After a booking attempt keyboard focus must not fall back to the page: Book again when
   * there is something left to book, else the message that says what happened.
   */
  focusAfterBooking() {
    if (!this.bookButton.disabled) return this.bookButton.focus();
    const message = [part(this.root, "status"), part(this.root, "alert")].find((region) => region.childElementCount > 0);
    if (message) message.focus();
  }
}
