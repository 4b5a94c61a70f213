// The controller: routes (?show=<id>[&section=<name>], ?view=bookings), Book (a hold, then the
// checkout of checkout.js), the live seat map, My bookings.

import * as api from "./api.js";
import { Checkout } from "./checkout.js";
import { plural } from "./dom.js";
import { Store, describeSeats, userIdProblem } from "./state.js";
import { Poller } from "./poller.js";
import { Venue } from "./venue.js";
import { View } from "./view.js";

const POLL_MS = 2000;

const store = new Store();
const view = new View();
const poller = new Poller(refreshSeats, { interval: POLL_MS, wait: () => store.bookingInFlight });
const checkout = new Checkout({ store, view: view.checkout, showView: view.show, poller });

// --- routing -----------------------------------------------------------------------------

function route(url = new URL(location.href)) {
  const showId = url.searchParams.get("show");
  if (showId) return { name: "show", showId, section: url.searchParams.get("section") };
  if (url.searchParams.get("view") === "bookings") return { name: "bookings" };
  return { name: "shows" };
}

let current = null;

function navigate(url) {
  if (url.href !== location.href) history.pushState(null, "", url.href);
  enter(route(url), { moveFocus: true });
}

function enter(next, { moveFocus = false } = {}) {
  if (next.name === "show" && isOpen(next.showId) && store.venue) {
    current = next;
    zoom(next.section, { push: false });  // back/forward between a big room's overview and a section
    return;
  }
  checkout.abandon();  // leaving the show: an open checkout gives its seats back
  poller.stop();
  current = next;
  view.showView(next.name);
  if (next.name === "show") openShow(next.showId);
  else if (next.name === "bookings") openBookings();
  else openShows();
  if (moveFocus) {
    // After an in-page navigation, start the reader (and the Tab order) at the new content.
    const heading = document.querySelector(`#${next.name}-view h1`);
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }
}

// --- upcoming shows ----------------------------------------------------------------------

// The server lists upcoming shows only (by its clock), a page at a time; More shows reads the next.
async function openShows() {
  view.setTitle("");
  view.shows.renderLoading();
  try {
    const page = await api.listShows();
    if (current.name !== "shows") return;
    view.shows.render(page.shows, page.nextCursor);
  } catch (error) {
    if (current.name === "shows") view.shows.renderProblem(`We couldn't load the shows. ${error.message} Reload the page to try again.`);
  }
}

view.shows.bindMore(async (cursor) => {
  try {
    const page = await api.listShows(cursor);
    if (current.name === "shows") view.shows.append(page.shows, page.nextCursor);
  } catch (error) {
    if (current.name === "shows") view.shows.renderMoreProblem(`We couldn't load more shows. ${error.message}`);
  }
});

// --- one show: seat map ------------------------------------------------------------------

// The layout is read once per show (the browser may keep it: it never changes); after that only
// the availability string is, every ~2 s.
async function openShow(showId) {
  store.clearShow();
  view.show.renderLoading();
  view.show.doneEditingUser();
  view.setTitle("Show");
  try {
    const [show, layout, availability] = await Promise.all([
      api.getShow(showId), api.getLayout(showId), api.getAvailability(showId, null)]);
    if (!isOpen(showId)) return;
    const venue = new Venue(layout);
    store.openShow(show, venue);
    store.applyAvailability(availability.statuses, availability.etag);
    store.zoom = venue.big && venue.section(current.section) ? current.section : null;
    view.show.renderHeader(show);
    view.show.buildRoom(store);
    poller.start();
  } catch (error) {
    if (!isOpen(showId)) return;
    view.show.renderProblem(error.status === 404 || error.code === "VALIDATION_ERROR"
      ? "We can't find this show. It may have been removed, or the link is wrong."
      : `We couldn't load this show. ${error.message} Reload the page to try again.`);
  }
}

function isOpen(showId) {
  return current && current.name === "show" && current.showId === showId;
}

// Live seat map: a conditional GET of the availability every ~2 s (304 while nothing changed),
// paused while the tab is hidden and while our own hold or confirmation is in flight (its answer
// updates the map itself). It is also how an open checkout learns early that its hold has gone.
async function refreshSeats() {
  const show = store.show;
  if (!show) return;
  const result = await api.getAvailability(show.id, store.etag);
  if (store.show !== show || store.bookingInFlight) return;
  if (!result.notModified) {
    const lost = store.applyAvailability(result.statuses, result.etag);
    view.show.updateSeats(store);
    if (lost.length) {
      view.show.showAlert("Someone just booked this!",
        `${describeSeats(lost, { sections: store.venue.multiSection })} ${lost.length === 1 ? "was" : "were"} just booked by someone else and left your selection.`);
    }
    if (store.holdLooksGone()) checkout.recheck("availability");
  }
}

/** A big room: into one section (its name) or back to the overview (null). */
function zoom(section, { push = true, focus = true } = {}) {
  const venue = store.venue;
  if (!venue || !venue.big) return;
  const target = section && venue.section(section) ? section : null;
  const previous = store.zoom;
  if (push && target !== previous) {
    const url = new URL(location.href);
    if (target) url.searchParams.set("section", target);
    else url.searchParams.delete("section");
    history.pushState(null, "", url.href);
    current = route(url);
  }
  store.zoom = target;
  view.show.showZoom(store);
  if (!focus) return;
  if (target) view.show.focusZoomTitle();
  else if (previous) view.show.focusSection(previous);
}

view.show.bindZoom((section) => zoom(section));

view.show.bindAccessibleFilter((on) => {
  store.accessibleOnly = on;
  view.show.showZoom(store);
});

view.show.bindSeatToggle((seatId) => {
  const outcome = store.toggleSeat(seatId);
  if (outcome === "full") {
    view.show.showAlert(`You can book up to ${store.maxSeats} seats at a time.`, "Deselect a seat to pick another.");
  } else if (outcome === "selected" || outcome === "deselected") {
    view.show.clearMessages();
  }
  view.show.updateSeats(store);
});

view.show.bindChangeUser(() => view.show.editUser(store));

// --- booking: Book holds the selection and opens the checkout -------------------------------

/** The buyer's name for a hold: the one typed (checked, then kept), or the known one. False
 *  (with the problem shown by the field) when there is none to use. */
function takeUserId(typedUserId) {
  if (typedUserId !== null) {
    const problem = userIdProblem(typedUserId);
    view.show.showUserProblem(problem);
    if (problem) return false;
    store.setUserId(typedUserId);
    view.show.doneEditingUser();
  } else if (!store.userId) {
    view.show.showUserProblem(userIdProblem(""));
    return false;
  }
  return true;
}

/** A hold's answer (Book's or best available's): the checkout opens on it, unless the buyer has
 *  left the show meanwhile (then it is given back at once). */
function openHold(show, hold, serverDate) {
  if (store.show !== show || !isOpen(show.id)) {
    api.releaseHold(hold.id, hold.holdToken).catch(() => {});  // the buyer left meanwhile: give them back
    return false;
  }
  store.holdMade(hold);
  view.show.updateSeats(store);
  checkout.open(hold, serverDate);
  return true;
}

function showLimitReached(show) {
  const limit = Number(show.maxSeatsPerUser);
  view.show.showAlert(limit > 0 ? `You can hold or book at most ${plural(limit, "seat")} of this show.`
                                : "You have reached this show's limit of seats per buyer.",
    `Seats you are holding or have booked as ${store.userId} count towards it. `
    + "Choose fewer seats, or cancel a booking in My bookings to free its seats.");
}

view.show.bindBook(async (typedUserId) => {
  if (store.bookingInFlight || store.hold || !store.show || store.selected.size === 0) return;  // a double click stops here
  if (!takeUserId(typedUserId)) return;

  const show = store.show;
  const { seatIds, key } = store.beginBooking(api.newIdempotencyKey);
  view.show.clearMessages();
  view.show.updateSeats(store);  // optimistic: the seats show as being booked at once

  try {
    const { hold, serverDate } = await api.holdSeats(show.id, store.userId, seatIds, key);
    openHold(show, hold, serverDate);
  } catch (error) {
    if (store.show !== show) return;
    if (error.code === "SEAT_UNAVAILABLE") {
      const takenIds = Array.isArray(error.body && error.body.seatIds) ? error.body.seatIds.map(String) : [];
      const taken = store.bookingRefused(takenIds);
      view.show.updateSeats(store);
      const rest = store.selected.size;
      view.show.showAlert("Someone just booked this!",
        taken.length ? `${describeSeats(taken, { sections: store.venue.multiSection })} ${taken.length === 1 ? "is" : "are"} no longer available.` : null,
        rest ? `Your other ${rest === 1 ? "seat is" : "seats are"} still selected — book again to keep ${rest === 1 ? "it" : "them"}.`
             : "Pick another seat.");
    } else if (error.code === "LIMIT_REACHED") {
      store.bookingFailed({ keepKey: false });
      view.show.updateSeats(store);
      showLimitReached(show);
    } else if (error.retryable) {
      store.bookingFailed({ keepKey: true });
      view.show.updateSeats(store);
      view.show.showAlert("We couldn't book your seats just now.",
        "Nothing was booked. Your seats are still selected — please try again.");
    } else {
      store.bookingFailed({ keepKey: false });
      view.show.updateSeats(store);
      view.show.showAlert("We couldn't book your seats.", error.message);
    }
  } finally {
    if (!store.hold) view.show.focusAfterBooking();  // with a checkout open, focus is in it
    if (store.show === show) poller.now();  // catch up with whatever else changed meanwhile
  }
});

// --- best available: the server picks the seats, then the same checkout ----------------------

/** "No 3 seats together are left in Premium." — the answer to NOT_ENOUGH_SEATS. */
function describeBest(best) {
  const category = best.category && store.venue.categories.get(best.category);
  const where = best.category ? ` in ${category ? category.name : best.category}` : "";
  const what = `${best.accessible ? "wheelchair place" : "seat"}${best.count === 1 ? "" : "s"}`;
  return best.count === 1 ? `No ${what} is left${where}.` : `No ${best.count} ${what} together are left${where}.`;
}

view.show.bindBest(async (typedUserId, best) => {
  if (store.bookingInFlight || store.hold || !store.show || store.hasStarted) return;  // a double press stops here
  if (!takeUserId(typedUserId)) return;

  const show = store.show;
  const key = store.beginBest(best, api.newIdempotencyKey);
  view.show.clearMessages();
  view.show.updateSeats(store);

  try {
    const { hold, serverDate } = await api.holdBest(show.id, store.userId, best, key);
    if (openHold(show, hold, serverDate) && store.venue.big && store.hold.seats.length) {
      zoom(store.hold.seats[0].section, { focus: false });  // a big room: to the section of the seats picked
    }
  } catch (error) {
    if (store.show !== show) return;
    const retryable = error.retryable && error.code !== "NOT_ENOUGH_SEATS";
    store.bookingFailed({ keepKey: retryable });
    view.show.updateSeats(store);
    if (error.code === "NOT_ENOUGH_SEATS") {
      view.show.showAlert(describeBest(best),
        "Try fewer seats or another category, or pick seats on the map: they need not sit together.");
    } else if (error.code === "LIMIT_REACHED") {
      showLimitReached(show);
    } else if (retryable) {
      view.show.showAlert("We couldn't find your seats just now.", "Nothing was held. Please try again.");
    } else {
      view.show.showAlert("We couldn't find your seats.", error.message);
    }
  } finally {
    if (store.show === show && !store.hold) view.show.focusBest();  // with a checkout open, focus is in it
    if (store.show === show) poller.now();
  }
});

// --- my bookings -------------------------------------------------------------------------

// The screen lists the bookings it opened with (`listed`): one cancelled here stays listed as
// Cancelled until the screen is left, although its token has already left storage.
let listed = [];
const details = new Map();  // booking id -> {loading} | {booking} | {error, gone} | {cancelling}

function renderBookings() {
  view.bookings.render(listed, details, { onCancel: cancel, onForget: forget });
}

async function openBookings() {
  view.setTitle("My bookings");
  view.bookings.showMessage("status", "");
  store.forgetPastBookings();
  listed = store.bookings;
  const entries = listed;
  details.clear();
  entries.forEach((entry) => details.set(entry.id, { loading: true }));
  renderBookings();
  await Promise.all(entries.map(async (entry) => {
    try {
      const booking = await api.getBooking(entry.id, entry.token);
      details.set(entry.id, { booking });
      if (booking.status === "CANCELLED") store.forgetBooking(entry.id);  // cancelled elsewhere: its token is spent
    } catch (error) {
      const gone = error.status === 404 || error.status === 403 || error.status === 401;
      details.set(entry.id, {
        gone,
        error: error.status === 404 ? "This booking no longer exists."
          : gone ? "This browser's key to the booking no longer works."
          : `We couldn't load this booking. ${error.message}`,
      });
    }
  }));
  if (current.name === "bookings") renderBookings();
}

async function cancel(bookingId) {
  const entry = listed.find((known) => known.id === bookingId);
  const detail = details.get(bookingId);
  if (!entry || !detail || !detail.booking || detail.cancelling) return;
  details.set(bookingId, { ...detail, cancelling: true });
  renderBookings();
  try {
    const booking = await api.cancelBooking(entry.id, entry.token);
    store.forgetBooking(bookingId);  // the token has nothing left to open
    details.set(bookingId, { booking });
    renderBookings();
    view.bookings.showMessage("status", "Booking cancelled.",
      `${describeSeats(booking.seats, { sections: Boolean(entry.sections) })} ${booking.seats.length === 1 ? "is" : "are"} free again for everyone.`);
  } catch (error) {
    details.set(bookingId, detail);
    renderBookings();
    view.bookings.showMessage("alert", "We couldn't cancel this booking.",
      error.retryable ? "Nothing changed. Please try again." : error.message);
  }
  view.bookings.focusHeading();
}

function forget(bookingId) {
  store.forgetBooking(bookingId);
  listed = listed.filter((known) => known.id !== bookingId);
  details.delete(bookingId);
  renderBookings();
  view.bookings.showMessage("status", "Removed from this list.");
  view.bookings.focusHeading();
}

// --- start -------------------------------------------------------------------------------

view.bindNavigate(navigate);
window.addEventListener("popstate", () => enter(route()));
// Leaving the page with a checkout open: release the hold with a request that outlives the page.
window.addEventListener("pagehide", () => checkout.releaseOnUnload());
// Back from the back/forward cache: the hold was released as the page was left; ask.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) checkout.recheck("visible");
});
enter(route());
