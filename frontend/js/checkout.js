// The checkout controller: from a hold (Book's answer) until it is confirmed into a booking,
// released, or lapses. It runs the countdown by the server's clock (hold-clock.js), asks the
// server (GET /holds/{id}) whenever the hold may have ended, and gives the seats back when the
// buyer cancels or leaves.
//
// When is the hold asked about? Not on a timer of its own: the seat map already reads the
// availability every ~2 s, and a seat of a live hold reads H there. So the page asks
//   - when the countdown reaches zero (the server decides, not our estimate);
//   - when the availability shows a seat of the hold as no longer held (lapsed early by the
//     server's clock, released elsewhere, taken over);
//   - when the page becomes visible again (timers sleep in a hidden tab; a page restored from
//     the back/forward cache may have released its hold as it was left).

import * as api from "./api.js";
import { HoldClock } from "./hold-clock.js";
import { describeSeats } from "./state.js";

const WARN_MS = 60_000;                         // the one-minute warning
const OVERDUE_RETRY_MS = [1000, 2000, 5000];    // time is up by our clock, not yet by the server's
const GONE = new Set([401, 403, 404]);          // the token no longer opens the hold

export class Checkout {
  /** store: the model; view: CheckoutView; showView: ShowView (messages, seats); poller: the
   *  availability poller (refreshed at once when the checkout ends). */
  constructor({ store, view, showView, poller }) {
    this.store = store;
    this.view = view;
    this.showView = showView;
    this.poller = poller;
    this.clock = null;
    this.timer = null;
    this.checking = false;
    this.releasing = false;
    this.warned = false;
    this.overdue = 0;
    view.bindConfirm(() => this.confirm());
    view.bindRelease(({ closed = false } = {}) => this.cancel({ closed }));
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.recheck("visible");
    });
  }

  get active() {
    return Boolean(this.store.hold);
  }

  /** Opens the checkout on the hold the store has just taken (store.holdMade), as its answer arrives. */
  open(hold, serverDate) {
    const show = this.store.show;
    this.clock = new HoldClock(hold, { holdMinutes: Number(show.holdMinutes), serverDate });
    this.warned = false;
    this.overdue = 0;
    this.view.open({ hold: this.store.hold, show, venue: this.store.venue, minutes: Number(show.holdMinutes) });
    this.tick();
  }

  // --- the countdown ---------------------------------------------------------------------

  tick() {
    clearTimeout(this.timer);
    this.timer = null;
    if (!this.active || this.store.hold.confirming) return;
    const left = this.clock.remaining();
    this.view.renderTime(left);
    if (left <= 0) {
      this.recheck("time");
      return;
    }
    if (left <= WARN_MS && !this.warned) {
      this.warned = true;
      this.view.warn("Less than a minute left: confirm now to keep your seats.");
    }
    this.timer = setTimeout(() => this.tick(), (left % 1000) + 5);  // just after the shown second changes
  }

  /** Asks the server how the hold stands; `reason`: "time", "availability" or "visible". */
  async recheck(reason) {
    const hold = this.store.hold;
    if (!hold || hold.confirming || this.releasing || this.checking) return;
    this.checking = true;
    let answer = null;
    let failure = null;
    try {
      answer = await api.getHold(hold.id, hold.token);
    } catch (error) {
      failure = error;
    } finally {
      this.checking = false;
    }
    if (this.store.hold !== hold || hold.confirming || this.releasing) return;
    if (answer) {
      const status = answer.hold.status;
      if (status === "ACTIVE") {
        this.clock.update(answer.hold, answer.serverDate);
        if (this.clock.remaining() > 0) {
          this.overdue = 0;
          this.tick();
        } else {
          // Live still by the server's clock (ours is a little ahead of it): ask again shortly.
          clearTimeout(this.timer);
          const wait = OVERDUE_RETRY_MS[Math.min(this.overdue, OVERDUE_RETRY_MS.length - 1)];
          this.overdue += 1;
          this.timer = setTimeout(() => this.recheck("time"), wait);
        }
      } else if (status === "CONFIRMED") {
        this.confirm();  // a confirmation whose answer was lost: confirming again answers its booking
      } else {
        this.end(status === "EXPIRED" ? "expired" : "released");
      }
    } else if (GONE.has(failure.status)) {
      this.end("released");
    } else if (reason === "time") {
      this.end("expired");  // no answer, but the time is up by the server's clock as we know it
    } else {
      this.tick();  // no answer: keep counting; the next clue asks again
    }
  }

  // --- confirm ----------------------------------------------------------------------------

  async confirm() {
    const hold = this.store.hold;
    if (!hold || hold.confirming || this.releasing) return;
    const { show, venue } = this.store;
    hold.confirming = true;  // the availability poll waits for the answer (store.bookingInFlight)
    clearTimeout(this.timer);
    this.view.clearProblem();
    this.view.setBusy("confirm");
    try {
      const booking = await api.confirmHold(hold.id, hold.token);
      this.store.rememberBooking(booking, show, venue);  // even if the buyer has left the show meanwhile
      if (this.store.hold !== hold) return;
      this.finish();
      this.store.holdConfirmed(booking);
      this.showView.updateSeats(this.store);
      this.showView.showConfirmation(booking, show, venue);
      this.showView.focusAfterBooking();
    } catch (error) {
      hold.confirming = false;
      if (this.store.hold !== hold) return;
      if (error.code === "HOLD_EXPIRED") {
        this.end("expired");
      } else if (error.code === "SHOW_STARTED") {
        this.end("refused", error.message);
      } else if (GONE.has(error.status)) {
        this.end("released");
      } else {
        this.view.setBusy(null);
        this.view.showProblem(
          error.retryable ? "We couldn't confirm your booking just now." : "We couldn't confirm your booking.",
          error.retryable ? "Your seats are still held for you. Please try again." : error.message);
        this.view.focusConfirm();
        this.tick();
      }
    } finally {
      if (this.store.show === show) this.poller.now();
    }
  }

  // --- cancel, leave ----------------------------------------------------------------------

  /** Cancel (the button, Escape): DELETE the hold, then back to the map with the seats still
   *  picked, so the buyer can change them and Book again. */
  async cancel({ closed = false } = {}) {
    const hold = this.store.hold;
    if (!hold) return;
    if (hold.confirming) {
      if (closed) this.view.reopen();  // the answer is on its way; it decides
      return;
    }
    if (this.releasing) return;
    this.releasing = true;
    clearTimeout(this.timer);
    this.view.clearProblem();
    this.view.setBusy("release");
    let answer = null;
    let failure = null;
    try {
      answer = await api.releaseHold(hold.id, hold.token);
    } catch (error) {
      failure = error;
    } finally {
      this.releasing = false;
    }
    if (this.store.hold !== hold) return;
    if (answer && answer.status === "CONFIRMED") {
      this.confirm();  // confirmed already (an answer we never saw): fetch its booking
    } else if (answer || GONE.has(failure.status)) {
      this.end("cancelled");
    } else {
      this.end("unreleased");
    }
  }

  /** Leaving the show inside the app (another route): the hold goes back, in the background. */
  abandon() {
    const hold = this.store.hold;
    if (!hold) return;
    this.finish();
    // A confirmation on its way is left to finish: its booking is remembered (confirm()).
    if (!hold.confirming) api.releaseHold(hold.id, hold.token).catch(() => {});  // else it lapses
    this.store.holdEnded();
  }

  /** The page is being unloaded: release with a request that outlives it. Best effort; the
   *  checkout stays as it is, in case the page comes back from the back/forward cache (it then
   *  finds out from the server, see `recheck`). */
  releaseOnUnload() {
    const hold = this.store.hold;
    if (!hold || hold.confirming) return;
    api.releaseHold(hold.id, hold.token, { keepalive: true }).catch(() => {});
  }

  // --- closing ----------------------------------------------------------------------------

  finish() {
    clearTimeout(this.timer);
    this.timer = null;
    this.view.close();
  }

  /** The checkout closes without a booking; `kind` says why. */
  end(kind, message = "") {
    const store = this.store;
    this.finish();
    const seats = store.holdEnded({ reselect: kind === "cancelled", freed: kind !== "unreleased" });
    this.showView.updateSeats(store);
    const named = describeSeats(seats, { sections: store.venue.multiSection });
    const were = seats.length === 1 ? "was" : "were";
    if (kind === "expired") {
      this.showView.showAlert("Your hold expired",
        `${named} ${were} released, so anyone can book ${seats.length === 1 ? "it" : "them"} now.`,
        "Pick your seats again to book.");
    } else if (kind === "released") {
      this.showView.showAlert("Your seats are no longer held",
        `${named} ${were} released.`, "Pick your seats again to book.");
    } else if (kind === "unreleased") {
      this.showView.showAlert("We couldn't release your seats just now.",
        "They stay held until your time runs out, and then anyone can book them.");
    } else if (kind === "refused") {
      this.showView.showAlert("We couldn't book your seats.", message);
    } else {
      this.showView.showStatus("Your seats were released.",
        `${named} ${seats.length === 1 ? "is" : "are"} still selected here: Book holds ${seats.length === 1 ? "it" : "them"} again.`);
    }
    this.showView.focusAfterBooking();
    this.poller.now();
  }
}
