// The view of one show (#show-view): its header, the keys (prices, seat states, the wheelchair
// filter), the room — all its sections' seats, or for a big room an overview of sections and
// one section's seats at a time — and the booking form with its selection, the user's name, the
// Book button and the status/alert messages.

import { describeSeats } from "./state.js";
import { el, formatTime, part, plural, setTitle, showMessage } from "./dom.js";
import { formatCount, formatMoney } from "./venue.js";
import { OverviewView } from "./view-overview.js";
import { SeatMapView } from "./view-seat-map.js";

export class ShowView {
  constructor(root) {
    this.root = root;
    this.form = part(root, "booking-form");
    this.bookButton = part(root, "book");
    this.bestButton = part(root, "best-button");
    this.userInput = root.querySelector("#user-id");
    this.seatMap = new SeatMapView(part(root, "rows"));
    this.overview = new OverviewView(part(root, "overview"));
    this.drawn = null;              // what the seat map shows: "all", a section name, or null
    this.editingUser = false;       // the name field is open although a name is known
  }

  // --- the show and its room -----------------------------------------------------------

  renderLoading() {
    const root = this.root;
    part(root, "name").textContent = "Loading show…";
    part(root, "time").textContent = "";
    part(root, "seats-left").textContent = "";
    part(root, "problem").hidden = true;
    part(root, "layout").hidden = true;
    this.seatMap.clear();
    this.drawn = null;
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

  /** Builds what stays for the show's life: the price keys, the filter, a big room's overview. */
  buildRoom(store) {
    const venue = store.venue;
    const prices = part(this.root, "prices");
    prices.hidden = !venue.priced;
    prices.replaceChildren(...Array.from(venue.categories.values(), (category) => el("li", {},
      el("span", { class: "seat-swatch seat-available", "data-category": String(category.index % 6), "aria-hidden": "true" }),
      el("span", { text: venue.categoryLabel(category.id) }),
      el("span", { class: "category-left", "data-category-left": category.id }))));
    part(this.root, "accessible-field").hidden = !venue.hasAccessible;
    part(this.root, "wheelchair-key").hidden = !venue.hasAccessible;
    part(this.root, "accessible-filter").checked = store.accessibleOnly;
    if (venue.big) this.overview.render(venue);
    this.buildBest(store);
    this.drawn = null;
    part(this.root, "layout").hidden = false;
    this.showZoom(store);
  }

  /** Shows the whole room, the overview of a big one, or the section it is zoomed into. */
  showZoom(store) {
    const venue = store.venue;
    const root = this.root;
    const section = venue.big && store.zoom ? venue.section(store.zoom) : null;
    const overview = venue.big && !section;
    part(root, "overview").hidden = !overview;
    part(root, "zoom-bar").hidden = !section;
    part(root, "seats-area").hidden = overview;
    const wanted = overview ? null : section ? section.name : "all";
    const drawnNow = wanted !== this.drawn;
    if (drawnNow) {
      if (wanted === null) this.seatMap.clear();  // a big room never keeps a section's seats it doesn't show
      else this.seatMap.render(venue, section ? [section] : venue.sections, { headings: !section && venue.multiSection });
      this.drawn = wanted;
    }
    part(root, "map-label").textContent = section ? `Seats in ${section.name}` : "Seat map";
    if (section) part(root, "zoom-title").textContent = section.name;
    this.updateSeats(store);
    if (wanted !== null && drawnNow) {
      // A room wider than the screen opens on its middle, where the best seats are.
      const scroller = root.querySelector(".map-scroll");
      scroller.scrollLeft = (scroller.scrollWidth - scroller.clientWidth) / 2;
    }
  }

  /** Brings seats, tiles, counts and the panel in line with the model. */
  updateSeats(store) {
    const venue = store.venue;
    const root = this.root;
    this.seatMap.update(store);
    const availability = store.availability();
    const { sections, byCategory } = availability;
    if (!part(root, "overview").hidden) this.overview.update(store, availability);
    const zoomed = venue.big && store.zoom ? venue.section(store.zoom) : null;
    if (zoomed) {
      const now = sections[zoomed.index];
      part(root, "zoom-summary").textContent = [
        `${formatCount(now.available)} of ${formatCount(zoomed.count)} seats left`,
        ...Array.from(zoomed.totals.keys(), (id) => venue.categoryLabel(id))].join(" · ");
    }
    for (const node of part(root, "prices").querySelectorAll("[data-category-left]")) {
      node.textContent = ` · ${formatCount(byCategory.get(node.dataset.categoryLeft) || 0)} left`;
    }
    const left = store.availableCount;
    part(root, "seats-left").textContent =
      left === 0 ? "Sold out" : `${formatCount(left)} seat${left === 1 ? "" : "s"} left of ${formatCount(venue.seats.length)}`;
    this.renderAccessibleNote(store);
    this.renderPanel(store);
  }

  renderAccessibleNote(store) {
    const note = part(this.root, "accessible-note");
    part(this.root, "map-column").classList.toggle("accessible-only", store.accessibleOnly);
    note.hidden = !store.accessibleOnly || this.drawn === null;
    if (note.hidden) return;
    const free = [];
    for (const id of this.seatMap.buttons.keys()) {
      const seat = store.venue.byId.get(id);
      if (seat.accessible && store.seatState(id) === "available") free.push(seat);
    }
    note.textContent = free.length === 0 ? "No wheelchair places are free here."
      : `Wheelchair places free here: ${describeSeats(free, { sections: this.drawn === "all" && store.venue.multiSection })}.`;
  }

  bindSeatToggle(handler) {
    this.seatMap.bindToggle(handler);
  }

  /** handler(section name), or handler(null) for Back to overview. */
  bindZoom(handler) {
    this.overview.bindZoom(handler);
    part(this.root, "back").addEventListener("click", () => handler(null));
  }

  bindAccessibleFilter(handler) {
    const box = part(this.root, "accessible-filter");
    box.addEventListener("change", () => handler(box.checked));
  }

  /** After zooming in: the section's name, so a reader hears where they are; Tab goes on to its seats. */
  focusZoomTitle() {
    part(this.root, "zoom-title").focus();
  }

  focusSection(name) {
    this.overview.focusSection(name);
  }

  // --- the booking form ----------------------------------------------------------------

  renderPanel(store) {
    const root = this.root;
    const venue = store.venue;
    const holding = store.bookingInFlight && !store.seeking;  // Book's own request (or a confirmation)
    const chosen = holding ? store.seatsOf(store.pending) : store.selectedSeats();
    const count = chosen.length;
    const total = chosen.reduce((sum, seat) => sum + venue.price(seat), 0);
    part(root, "selection-count").textContent = count === 0
      ? `No seats selected. Pick up to ${store.maxSeats}.`
      : `${plural(count, "seat")} ${holding ? "being booked" : "selected"}`
        + `${count >= store.maxSeats ? " (the most per booking)" : ""}${venue.priced ? ` · ${venue.money(total)}` : ""}`;
    const list = part(root, "selection-list");
    list.replaceChildren(...chosen.map((seat) =>
      el("li", { text: venue.priced ? `${venue.seatPlace(seat)} · ${venue.money(venue.price(seat))}` : venue.seatPlace(seat) })));

    const known = Boolean(store.userId) && !this.editingUser;
    part(root, "user-known").hidden = !known;
    part(root, "user-ask").hidden = known;
    part(root, "user-name").textContent = store.userId;

    const closed = store.hasStarted;
    part(root, "closed").hidden = !closed;
    this.bookButton.disabled = closed || count === 0 || store.bookingInFlight || Boolean(store.hold);
    this.bookButton.textContent = holding ? "Booking…"
      : count === 0 ? "Book" : `Book ${plural(count, "seat")}`;
    this.bookButton.setAttribute("aria-busy", String(holding));

    part(root, "best").hidden = closed;
    this.bestButton.disabled = closed || store.bookingInFlight || Boolean(store.hold);
    this.bestButton.textContent = store.seeking ? "Best available: finding seats…" : "Best available seats";
    this.bestButton.setAttribute("aria-busy", String(store.seeking));
  }

  /** The best-available form for this show: 1 to its most seats per booking, its categories
   *  (when there is a choice), wheelchair places (when the room has any). */
  buildBest(store) {
    const venue = store.venue;
    const count = part(this.root, "best-count");
    const previous = Number(count.value) || 2;
    count.replaceChildren(...Array.from({ length: store.maxSeats }, (_, index) =>
      el("option", { value: String(index + 1), text: String(index + 1) })));
    count.value = String(Math.min(previous, store.maxSeats));
    const category = part(this.root, "best-category");
    category.replaceChildren(el("option", { value: "", text: "Any category" }),
      ...Array.from(venue.categories.values(), (each) => el("option", { value: each.id, text: venue.categoryLabel(each.id) })));
    part(this.root, "best-category-field").hidden = venue.categories.size < 2;
    const accessible = part(this.root, "best-accessible");
    accessible.checked = false;
    part(this.root, "best-accessible-field").hidden = !venue.hasAccessible;
  }

  /** handler(typed user id or null, {count, category?, accessible?}). */
  bindBest(handler) {
    part(this.root, "best-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const best = { count: Number(part(this.root, "best-count").value) };
      const category = part(this.root, "best-category").value;
      if (category && !part(this.root, "best-category-field").hidden) best.category = category;
      if (part(this.root, "best-accessible").checked && !part(this.root, "best-accessible-field").hidden) best.accessible = true;
      handler(this.typedUserId(), best);
    });
  }

  focusBest() {
    if (!this.bestButton.disabled) this.bestButton.focus();
  }

  /** The name typed in the form when it is asked for (or being changed), else null (the known one). */
  typedUserId() {
    return this.editingUser || !part(this.root, "user-ask").hidden ? this.userInput.value.trim() : null;
  }

  /** handler(typed user id, or null when the known one is used). */
  bindBook(handler) {
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      handler(this.typedUserId());
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

  showConfirmation(booking, show, venue) {
    showMessage(part(this.root, "alert"));
    const seats = el("p", { class: "booking-seats", text: describeSeats(booking.seats, { sections: venue.multiSection }) });
    const total = booking.total && venue.priced
      ? el("p", { class: "booking-total", text: `Total ${formatMoney(booking.total.amount, booking.total.currency)}` }) : null;
    const reference = el("p", { class: "booking-ref" }, "Booking ", el("code", { text: booking.id }),
      " for ", el("span", { text: booking.userId }), ".");
    const link = el("p", {}, el("a", { href: "?view=bookings", "data-nav": "bookings", text: "See My bookings" }),
      " to view or cancel it.");
    showMessage(part(this.root, "status"), `Booked! ${show.name}`, seats, total, reference, link);
  }

  showStatus(headline, ...detail) {
    showMessage(part(this.root, "alert"));
    showMessage(part(this.root, "status"), headline, ...detail);
  }

  showAlert(headline, ...detail) {
    showMessage(part(this.root, "status"));
    showMessage(part(this.root, "alert"), headline, ...detail);
  }

  /**
   * After a booking attempt, or when the checkout closes, keyboard focus must not fall back to
   * the page: Book again when there is something left to book, else the message that says
   * what happened.
   */
  focusAfterBooking() {
    if (!this.bookButton.disabled) return this.bookButton.focus();
    const message = [part(this.root, "status"), part(this.root, "alert")].find((region) => region.childElementCount > 0);
    if (message) message.focus();
  }
}
