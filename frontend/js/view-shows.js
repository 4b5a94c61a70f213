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

  /** The first page of shows; `nextCursor` (or null) says where the next page starts. */
  render(shows, nextCursor = null) {
    const root = this.root;
    part(root, "loading").hidden = true;
    part(root, "problem").hidden = true;
    const list = part(root, "list");
    list.replaceChildren();
    if (shows.length === 0) {
      list.append(el("li", { class: "empty", text: "No upcoming shows yet. Come back soon." }));
    }
    this.append(shows, nextCursor);
  }

  /** Another page of shows under those listed; More shows stays while there are more. */
  append(shows, nextCursor) {
    const list = part(this.root, "list");
    for (const show of shows) list.append(el("li", {}, this.showCard(show)));
    this.nextCursor = nextCursor;
    part(this.root, "more").hidden = !nextCursor;
    part(this.root, "more-problem").hidden = true;
  }

  showCard(show) {
    const left = show.availableSeats;
    const soldOut = left === 0;
    return el("a", { href: `?show=${encodeURIComponent(show.id)}`, "data-show": show.id, class: "show-card" },
      el("span", { class: "show-name", text: show.name }),
      el("time", { datetime: show.startTime, class: "show-time", text: formatTime(show.startTime) }),
      el("span", { class: `show-left${soldOut ? " sold-out" : ""}`,
                   text: soldOut ? "Sold out" : `${plural(left, "seat")} left of ${show.totalSeats}` }));
  }

  /** onMore(cursor): More shows was pressed; the caller appends the page it reads. */
  bindMore(onMore) {
    const button = part(this.root, "more");
    button.addEventListener("click", async () => {
      if (button.disabled || !this.nextCursor) return;
      button.disabled = true;
      try {
        await onMore(this.nextCursor);
      } finally {
        button.disabled = false;
      }
    });
  }

  renderMoreProblem(message) {
    const problem = part(this.root, "more-problem");
    problem.hidden = false;
    problem.textContent = message;
  }

  renderProblem(message) {
    part(this.root, "loading").hidden = true;
    const problem = part(this.root, "problem");
    problem.hidden = false;
    problem.textContent = message;
  }
}
