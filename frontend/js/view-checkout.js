// The view of the checkout (the <dialog> in #show-view): the hold's seats and total, the buyer,
// a countdown (role="timer": read on demand, never announced every second), a one-minute
// warning in a polite live region, Confirm and Cancel. A modal dialog: while it is open the
// rest of the page is inert, Tab stays inside, and Escape means Cancel.

import { el, formatTime, part, showMessage } from "./dom.js";
import { formatCountdown } from "./hold-clock.js";
import { formatMoney } from "./venue.js";

const URGENT_MS = 60_000;

export class CheckoutView {
  constructor(dialog) {
    this.dialog = dialog;
    this.heading = dialog.querySelector("h2");
    this.timer = part(dialog, "timer");
    this.confirmButton = part(dialog, "confirm");
    this.releaseButton = part(dialog, "release");
    this.confirmText = "Confirm";
  }

  get isOpen() {
    return this.dialog.open;
  }

  /** Fills the dialog for `hold` (the model's: seats from the venue, the server's total), opens
   *  it and moves focus to its heading, so a reader hears where they are and Tab goes on to Confirm. */
  open({ hold, show, venue, minutes }) {
    const dialog = this.dialog;
    part(dialog, "checkout-show").textContent = [show.name, formatTime(show.startTime)].filter(Boolean).join(" · ");
    part(dialog, "checkout-intro").textContent = minutes > 0
      ? `We're holding ${hold.seats.length === 1 ? "this seat" : "these seats"} for you for ${minutes} minute${minutes === 1 ? "" : "s"} while you confirm.`
      : "We're holding your seats while you confirm.";
    part(dialog, "checkout-seats").replaceChildren(...hold.seats.map((seat) =>
      el("li", { text: venue.priced ? `${venue.seatPlace(seat)} · ${venue.money(venue.price(seat))}` : venue.seatPlace(seat) })));
    const total = hold.total && hold.total.amount > 0 ? formatMoney(hold.total.amount, hold.total.currency) : null;
    const totalLine = part(dialog, "checkout-total");
    totalLine.hidden = !total;
    totalLine.textContent = total ? `Total ${total}` : "";
    part(dialog, "checkout-buyer").textContent = hold.userId;
    this.confirmText = total ? `Confirm and pay ${total}` : `Confirm booking`;
    part(dialog, "warning").textContent = "";
    this.clearProblem();
    this.setBusy(null);
    this.timer.textContent = "";
    dialog.classList.remove("urgent");
    dialog.returnValue = "";
    if (!dialog.open) dialog.showModal();
    this.heading.focus();
  }

  /** Opens it again as it was (after the browser closed it while a confirmation was on its way). */
  reopen() {
    if (!this.dialog.open) this.dialog.showModal();
    this.heading.focus();
  }

  close() {
    if (this.dialog.open) this.dialog.close("done");  // the close event (it comes later) knows it was ours
  }

  renderTime(ms) {
    const text = formatCountdown(ms);
    if (this.timer.textContent !== text) this.timer.textContent = text;
    this.dialog.classList.toggle("urgent", ms <= URGENT_MS);
  }

  /** Said once, politely: the timer itself stays quiet. */
  warn(text) {
    part(this.dialog, "warning").textContent = text;
  }

  /** "confirm" or "release" while that request is on its way; null when neither is. */
  setBusy(action) {
    const confirm = this.confirmButton;
    const release = this.releaseButton;
    confirm.textContent = action === "confirm" ? "Confirming…" : this.confirmText;
    release.textContent = action === "release" ? "Releasing…" : "Cancel and release seats";
    confirm.disabled = release.disabled = action !== null;
    confirm.setAttribute("aria-busy", String(action === "confirm"));
    release.setAttribute("aria-busy", String(action === "release"));
  }

  showProblem(headline, ...detail) {
    showMessage(part(this.dialog, "checkout-alert"), headline, ...detail);
  }

  clearProblem() {
    showMessage(part(this.dialog, "checkout-alert"));
  }

  focusConfirm() {
    this.confirmButton.focus();
  }

  bindConfirm(handler) {
    this.confirmButton.addEventListener("click", () => handler());
  }

  /**
   * handler() for Cancel: the button, or Escape. The browser may close a modal dialog on
   * Escape even when asked not to (a second Escape with no click between), so a close that
   * was not ours is reported too, as handler({closed: true}).
   */
  bindRelease(handler) {
    this.releaseButton.addEventListener("click", () => handler());
    this.dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      handler();
    });
    this.dialog.addEventListener("close", () => {
      if (this.dialog.returnValue !== "done") handler({ closed: true });
    });
  }
}
