// The view of My bookings (#bookings-view): this browser's bookings, each with Cancel or Remove.

import { describeSeats } from "./state.js";
import { el, formatTime, part, showMessage } from "./dom.js";
import { formatMoney } from "./venue.js";

export class BookingsView {
  constructor(root) {
    this.root = root;
  }

  /** details: booking id -> {loading} | {booking} | {error, gone} | {booking, cancelling}. */
  render(entries, details, handlers) {
    part(this.root, "empty").hidden = entries.length > 0;
    const list = part(this.root, "list");
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
    const seatsText = describeSeats(booking.seats, { sections: Boolean(entry.sections) });
    item.classList.add(`booking-${status}`);
    item.append(
      el("p", { class: "booking-seats", text: seatsText }),
      booking.total && booking.total.amount > 0
        ? el("p", { class: "booking-total", text: `Total ${formatMoney(booking.total.amount, booking.total.currency)}` }) : "",
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

  /** kind "status" or "alert"; the other region is cleared. */
  showMessage(kind, headline, ...detail) {
    showMessage(part(this.root, kind === "alert" ? "status" : "alert"));
    showMessage(part(this.root, kind), headline, ...detail);
  }

  focusHeading() {
    const heading = this.root.querySelector("h1");
    heading.tabIndex = -1;
    heading.focus();
  }
}
