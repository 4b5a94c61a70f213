// The view: the three screens (one module each), the checkout dialog, and what belongs to the
// whole page: which screen shows, the document title, and in-app links. The controller talks
// to them as view.shows, view.show, view.checkout and view.bookings.

import { setTitle } from "./dom.js";
import { BookingsView } from "./view-bookings.js";
import { CheckoutView } from "./view-checkout.js";
import { ShowView } from "./view-show.js";
import { ShowsView } from "./view-shows.js";

export class View {
  constructor(doc = document) {
    this.sections = {
      shows: doc.getElementById("shows-view"),
      show: doc.getElementById("show-view"),
      bookings: doc.getElementById("bookings-view"),
    };
    this.shows = new ShowsView(this.sections.shows);
    this.show = new ShowView(this.sections.show);
    this.bookings = new BookingsView(this.sections.bookings);
    this.checkout = new CheckoutView(doc.querySelector("[data-role=checkout]"));
  }

  showView(name) {
    for (const [key, section] of Object.entries(this.sections)) section.hidden = key !== name;
    document.querySelectorAll("[data-nav]").forEach((link) => {
      if (link.dataset.nav === name && !link.classList.contains("brand")) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    });
  }

  setTitle(text) {
    setTitle(text);
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
}
