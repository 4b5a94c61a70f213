// The view of the upcoming shows (#shows-view): one card (a link) per show.

import { el, formatTime, part, plural } from "./dom.js";

export class ShowsView {
  constructor(root) {
    this.root = root;
  }

  renderLoading() {
    part(this.root, "loading").hidden = false;
    part(this.root, "problem").hidden = true;
  }

  render(shows) {
    const root = this.root;
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

  renderProblem(message) {
    part(this.root, "loading").hidden = true;
    const problem = part(this.root, "problem");
    problem.hidden = false;
    problem.textContent = message;
  }
}
