// The view: renders the model into the page and turns DOM events into calls to the controller.
// Everything that came from a user or the server goes in through textContent, never innerHTML.

import { MAX_SEATS, describeSeats, seatLabel } from "./state.js";

const STATE_WORDS = { available: "available", selected: "selected", booked: "booked", pending: "being booked" };

const dateFormat = new Intl.DateTimeFormat(undefined, {
  weekday: "short", day: "numeric", month: "short", year: "numeric",
  hour: "numeric", minute: "2-digit", timeZoneName: "short",
});

export function formatTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : dateFormat.format(date);
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);  // strings become text nodes
  }
  return node;
}

function part(root, role) {
  return root.querySelector(`[data-role="${role}"]`);
}

function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/** A message area (role=status or role=alert): a headline and optional detail nodes. */
function showMessage(region, headline, ...detail) {
  region.replaceChildren();
  if (!headline) return;
  region.append(el("p", { class: "message-headline", text: headline }));
  for (const item of detail) {
    if (item) region.append(typeof item === "string" ? el("p", { text: item }) : item);
  }
}

export class View {
  constructor(doc = document) {
    this.views = {
      shows: doc.getElementById("shows-view"),
      show: doc.getElementById("show-view"),
      bookings: doc.getElementById("bookings-view"),
    };
    const show = this.views.show;
    this.form = part(show, "booking-form");
    this.rows = part(show, "rows");
    this.bookButton = part(show, "book");
    this.userInput = show.querySelector("#user-id");
    this.seatButtons = new Map();   // seat id -> button
    this.rovingSeatId = null;       // the one seat in the tab order
    this.rowOrder = [];             // [[seat id, ...], ...] rows of the map, for arrow keys
  }

  // --- navigation ----------------------------------------------------------------------

  showView(name) {
    for (const [key, section] of Object.entries(this.views)) section.hidden = key !== name;
    document.querySelectorAll("[data-nav]").forEach((link) => {
      if (link.dataset.nav === name && !link.classList.contains("brand")) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    });
  }

  setTitle(text) {
    document.title = text ? `${text} — Modex` : "Modex — pick your seats";
  }

  /** In-app links (data-nav, data-show) navigate without a reload; modified clicks open tabs. */
  bindNavigate(handler) {
    document.addEventListener("click", (event) => {
      const link = event.target.closest("a[href]");
      if (!link || !(link.dataset.nav || link.dataset.show)) return;
      if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      handler(new URL(link.href, location.href));
    });
  }

  // --- upcoming shows ------------------------------------------------------------------

  renderShowsLoading() {
    const root = this.views.shows;
    part(root, "loading").hidden = false;
    part(root, "problem").hidden = true;
  }

  renderShows(shows) {
    const root = this.views.shows;
    part(root, "loading").hidden = true;
    part(root, "problem").hidden = true;
    const list = part(root, "list");
    list.replaceChildren();
    if (shows.length === 0) {
      list.append(el("li", { class: "empty", text: "No upcoming shows yet. Come back soon." }));
      return;
    }
    for (const show of shows) {
      const left = show.availableSeats;
      const soldOut = left === 0;
      const link = el("a", { href: `?show=${encodeURIComponent(show.id)}`, "data-show": show.id, class: "show-card" },
        el("span", { class: "show-name", text: show.name }),
        el("time", { datetime: show.startTime, class: "show-time", text: formatTime(show.startTime) }),
        el("span", { class: `show-left${soldOut ? " sold-out" : ""}`,
                     text: soldOut ? "Sold out" : `${plural(left, "seat")} left of ${show.totalSeats}` }));
      list.append(el("li", {}, link));
    }
  }

  renderShowsProblem(message) {
    const root = this.views.shows;
    part(root, "loading").hidden = true;
    const problem = part(root, "problem");
    problem.hidden = false;
    problem.textContent = message;
  }

  // --- one show ------------------------------------------------------------------------

  renderShowLoading() {
    const root = this.views.show;
    part(root, "name").textContent = "Loading show…";
    part(root, "time").textContent = "";
    part(root, "seats-left").textContent = "";
    part(root, "problem").hidden = true;
    part(root, "layout").hidden = true;
    this.rows.replaceChildren();
    this.seatButtons = new Map();
    this.rovingSeatId = null;
    showMessage(part(root, "status"));
    showMessage(part(root, "alert"));
  }

  renderShowProblem(message) {
    const root = this.views.show;
    part(root, "name").textContent = "Show unavailable";
    const problem = part(root, "problem");
    problem.hidden = false;
    problem.textContent = message;
    part(root, "layout").hidden = true;
  }

  renderShowHeader(show) {
    const root = this.views.show;
    part(root, "name").textContent = show.name;
    const time = part(root, "time");
    time.dateTime = show.startTime;
    time.textContent = formatTime(show.startTime);
    this.setTitle(show.name);
  }

  /** Builds the seat buttons once per show; later changes only touch their attributes. */
  buildSeatMap(store) {
    this.rows.replaceChildren();
    this.seatButtons = new Map();
    this.rowOrder = [];
    const byRow = new Map();
    for (const seat of store.seats.values()) {
      if (!byRow.has(seat.row)) byRow.set(seat.row, []);
      byRow.get(seat.row).push(seat);
    }
    for (const [row, seats] of byRow) {
      const rowIds = [];
      const seatList = el("div", { class: "row-seats" });
      for (const seat of seats) {
        const button = el("button", { type: "button", class: "seat", "data-seat-id": seat.id },
          el("span", { class: "seat-number", text: String(seat.number) }));
        seatList.append(button);
        this.seatButtons.set(seat.id, button);
        rowIds.push(seat.id);
      }
      this.rowOrder.push(rowIds);
      this.rows.append(el("div", { class: "seat-row", role: "group", "aria-label": `Row ${row}` },
        el("span", { class: "row-label", "aria-hidden": "true", text: row }),
        seatList,
        el("span", { class: "row-label", "aria-hidden": "true", text: row })));
    }
    part(this.views.show, "layout").hidden = false;
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
    this.keepRovingSeat();
    const left = store.availableCount;
    part(this.views.show, "seats-left").textContent =
      left === 0 ? "Sold out" : `${plural(left, "seat")} left of ${store.seats.size}`;
    this.renderPanel(store);
  }

  renderPanel(store) {
    const root = this.views.show;
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

  /** Exactly one enabled seat is reachable with Tab; arrow keys move between seats. */
  keepRovingSeat() {
    const current = this.seatButtons.get(this.rovingSeatId);
    let target = current && !current.disabled ? current : null;
    if (!target) target = this.nearestEnabled(this.rovingSeatId);
    const focusWasLost = current && current !== target && document.activeElement === current;
    for (const button of this.seatButtons.values()) button.tabIndex = button === target ? 0 : -1;
    this.rovingSeatId = target ? target.dataset.seatId : null;
    if (focusWasLost && target) target.focus();  // a seat that just got booked under the keyboard
  }

  nearestEnabled(fromId) {
    const order = this.rowOrder.flat();
    const start = Math.max(0, order.indexOf(fromId));
    for (let distance = 0; distance < order.length; distance += 1) {
      for (const index of [start + distance, start - distance]) {
        const button = this.seatButtons.get(order[index]);
        if (button && !button.disabled) return button;
      }
    }
    return null;
  }

  moveFocus(fromId, key) {
    const rowIndex = this.rowOrder.findIndex((ids) => ids.includes(fromId));
    if (rowIndex < 0) return false;
    const row = this.rowOrder[rowIndex];
    const enabled = (id) => id !== undefined && !this.seatButtons.get(id).disabled;
    let target;
    const column = row.indexOf(fromId);
    if (key === "ArrowLeft") target = row.slice(0, column).reverse().find(enabled);
    else if (key === "ArrowRight") target = row.slice(column + 1).find(enabled);
    else if (key === "Home") target = row.find(enabled);
    else if (key === "End") target = [...row].reverse().find(enabled);
    else if (key === "ArrowUp" || key === "ArrowDown") {
      const step = key === "ArrowUp" ? -1 : 1;
      for (let r = rowIndex + step; r >= 0 && r < this.rowOrder.length && !target; r += step) {
        const other = this.rowOrder[r];
        const candidates = other.filter(enabled);
        // The seat closest to the same column, so moving up and down keeps its line.
        candidates.sort((a, b) => Math.abs(other.indexOf(a) - column) - Math.abs(other.indexOf(b) - column));
        target = candidates[0];
      }
    } else return false;
    if (target) {
      this.rovingSeatId = target;
      this.keepRovingSeat();
      this.seatButtons.get(target).focus();
    }
    return true;
  }

  bindSeatToggle(handler) {
    this.rows.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-seat-id]");
      if (!button || button.disabled) return;
      this.rovingSeatId = button.dataset.seatId;
      handler(button.dataset.seatId);
    });
    this.rows.addEventListener("keydown", (event) => {
      const button = event.target.closest("button[data-seat-id]");
      if (!button || event.altKey || event.ctrlKey || event.metaKey) return;
      if (this.moveFocus(button.dataset.seatId, event.key)) event.preventDefault();
    });
  }

  // --- the booking form ----------------------------------------------------------------

  bindBook(handler) {
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      handler(this.editingUser || !part(this.views.show, "user-ask").hidden ? this.userInput.value.trim() : null);
    });
  }

  bindChangeUser(handler) {
    part(this.views.show, "change-user").addEventListener("click", () => handler());
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
    const error = part(this.views.show, "user-error");
    error.hidden = !problem;
    error.textContent = problem || "";
    if (problem) {
      this.userInput.setAttribute("aria-invalid", "true");
      this.userInput.focus();
    } else {
      this.userInput.removeAttribute("aria-invalid");
    }
  }

  clearShowMessages() {
    showMessage(part(this.views.show, "status"));
    showMessage(part(this.views.show, "alert"));
  }

  showConfirmation(booking, show) {
    showMessage(part(this.views.show, "alert"));
    const seats = el("p", { class: "booking-seats", text: describeSeats(booking.seats) });
    const reference = el("p", { class: "booking-ref" }, "Booking ", el("code", { text: booking.id }),
      " for ", el("span", { text: booking.userId }), ".");
    const link = el("p", {}, el("a", { href: "?view=bookings", "data-nav": "bookings", text: "See My bookings" }),
      " to view or cancel it.");
    showMessage(part(this.views.show, "status"), `Booked! ${show.name}`, seats, reference, link);
  }

  showAlert(headline, ...detail) {
    showMessage(part(this.views.show, "status"));
    showMessage(part(this.views.show, "alert"), headline, ...detail);
  }

  showNote(headline, ...detail) {
    showMessage(part(this.views.show, "alert"));
    showMessage(part(this.views.show, "status"), headline, ...detail);
  }

  /**
   * After a booking attempt keyboard focus must not fall back to the page: Book again when
   * there is something left to book, else the message that says what happened.
   */
  focusAfterBooking() {
    if (!this.bookButton.disabled) return this.bookButton.focus();
    const root = this.views.show;
    const message = [part(root, "status"), part(root, "alert")].find((region) => region.childElementCount > 0);
    if (message) message.focus();
  }

  // --- my bookings ---------------------------------------------------------------------

  renderBookings(entries, details, handlers) {
    const root = this.views.bookings;
    part(root, "empty").hidden = entries.length > 0;
    const list = part(root, "list");
    list.replaceChildren();
    for (const entry of entries) list.append(this.bookingItem(entry, details.get(entry.id), handlers));
  }

  bookingItem(entry, detail, { onCancel, onForget }) {
    const name = entry.showName || "A show";
    const item = el("li", { class: "booking", "data-booking-id": entry.id });
    const heading = el("h2", {},
      entry.showId ? el("a", { href: `?show=${encodeURIComponent(entry.showId)}`, "data-show": entry.showId, text: name })
        : el("span", { text: name }));
    item.append(heading);
    if (entry.startTime) item.append(el("p", {}, el("time", { datetime: entry.startTime, text: formatTime(entry.startTime) })));

    if (!detail || detail.loading) {
      item.append(el("p", { class: "loading", text: "Loading…" }));
      return item;
    }
    if (detail.error) {
      item.append(el("p", { class: "problem", text: detail.error }));
      if (detail.gone) {
        item.append(el("button", { type: "button", class: "secondary", text: "Remove from this list" }));
        item.lastChild.addEventListener("click", () => onForget(entry.id));
      }
      return item;
    }
    const booking = detail.booking;
    const status = booking.status.toLowerCase();
    const seatsText = describeSeats(booking.seats);
    item.classList.add(`booking-${status}`);
    item.append(
      el("p", { class: "booking-seats", text: seatsText }),
      el("p", { class: "booking-meta" },
        el("span", { class: `badge badge-${status}`, text: status === "confirmed" ? "Confirmed" : status === "cancelled" ? "Cancelled" : "Not booked" }),
        " Booked as ", el("span", { text: booking.userId }), " · ref ", el("code", { text: booking.id.slice(0, 8) })));
    if (booking.status === "CONFIRMED") {
      const cancel = el("button", { type: "button", class: "danger", "aria-label": `Cancel booking: ${name}, ${seatsText}`,
                                    text: detail.cancelling ? "Cancelling…" : "Cancel booking" });
      cancel.disabled = Boolean(detail.cancelling);
      cancel.addEventListener("click", () => onCancel(entry.id));
      item.append(el("p", { class: "actions" }, cancel));
    } else {
      const forget = el("button", { type: "button", class: "secondary", "aria-label": `Remove from this list: ${name}, ${seatsText}`,
                                    text: "Remove from this list" });
      forget.addEventListener("click", () => onForget(entry.id));
      item.append(el("p", { class: "actions" }, forget));
    }
    return item;
  }

  showBookingsMessage(kind, headline, ...detail) {
    const root = this.views.bookings;
    showMessage(part(root, kind === "alert" ? "status" : "alert"));
    showMessage(part(root, kind), headline, ...detail);
  }

  focusBookingsHeading() {
    const heading = this.views.bookings.querySelector("h1");
    heading.tabIndex = -1;
    heading.focus();
  }
}
