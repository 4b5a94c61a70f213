// The seats of some sections (all of a small room, or the one a big room is zoomed into): one
// block per section, placed by the layout's positions (sections at about the same distance from
// the stage side by side) or stacked in layout order; rows nearest the stage first, an aisle
// wherever seat numbers skip, rows bent by the section's `curve`. Buttons are built once per
// rendering; later changes only touch their attributes.

import { el } from "./dom.js";
import { RovingFocus } from "./roving-focus.js";

export const SEAT = "button[data-seat-id]";
const STATE_WORDS = {
  available: "available", selected: "selected", booked: "booked", held: "on hold", pending: "being booked",
  yours: "held for you",
};
const BAND_DEPTH = 12;   // sections whose positions are this close to the stage share a band
const MAX_AISLE = 2;     // an aisle is drawn at most this many seats wide

export class SeatMapView {
  constructor(container) {
    this.container = container;
    this.buttons = new Map();   // seat id -> button
    this.roving = new RovingFocus(container, SEAT);
  }

  clear() {
    this.container.replaceChildren();
    this.buttons = new Map();
    this.roving.reset();
  }

  /** Draws `sections` of `venue`; `headings` names each block (a room of one section needs none). */
  render(venue, sections, { headings }) {
    this.clear();
    const grid = [];   // the buttons row by row, for the arrow keys
    for (const band of arrange(sections)) {
      const bandNode = el("div", { class: "section-band" });
      for (const section of band) bandNode.append(this.sectionBlock(venue, section, headings, grid));
      this.container.append(bandNode);
    }
    this.roving.reset(grid);
  }

  sectionBlock(venue, section, headings, grid) {
    const block = el("div", { class: "section-block" });
    if (section.curve > 0) block.style.setProperty("--curve", String(section.curve));
    if (headings) {
      const prices = Array.from(section.totals.keys(), (id) => venue.categoryLabel(id)).join(" · ");
      block.append(el("h2", { class: "section-title" }, section.name,
        prices ? el("span", { class: "section-prices", text: prices }) : null));
    }
    const rows = el("div", { class: "rows" });
    for (const row of section.rows) {
      const rowButtons = [];
      const seatList = el("div", { class: "row-seats" });
      const numbers = row.seats.map((seat) => seat.number);
      const low = Math.min(...numbers);
      const middle = (low + Math.max(...numbers)) / 2;
      const half = Math.max(1, middle - low);
      let previous = null;
      for (const seat of row.seats) {
        if (previous !== null && seat.number > previous + 1) {
          const width = Math.min(MAX_AISLE, seat.number - previous - 1);
          seatList.append(el("span", { class: `aisle aisle-${width}`, "aria-hidden": "true" }));
        }
        previous = seat.number;
        const button = el("button", {
          type: "button", class: "seat", "data-seat-id": seat.id,
          "data-category": String(venue.categories.has(seat.category) ? venue.categories.get(seat.category).index % 6 : 0),
          "data-accessible": seat.accessible ? "true" : null,
        }, el("span", { class: "seat-number", text: String(seat.number) }));
        if (section.curve > 0) {
          // Rows bend around the stage: the further from the row's middle, the nearer the stage.
          const offset = (seat.number - middle) / half;
          button.style.setProperty("--bend", (section.curve * offset * offset).toFixed(3));
        }
        seatList.append(button);
        this.buttons.set(seat.id, button);
        rowButtons.push(button);
      }
      grid.push(rowButtons);
      const name = headings ? `${section.name}, Row ${row.label}` : `Row ${row.label}`;
      rows.append(el("div", { class: "seat-row", role: "group", "aria-label": name },
        el("span", { class: "row-label", "aria-hidden": "true", text: row.label }),
        seatList,
        el("span", { class: "row-label", "aria-hidden": "true", text: row.label })));
    }
    block.append(rows);
    return block;
  }

  /** Brings every drawn seat in line with the model. */
  update(store) {
    const venue = store.venue;
    for (const [id, button] of this.buttons) {
      const state = store.seatState(id);
      if (button.dataset.state === state) continue;
      button.dataset.state = state;
      button.className = `seat seat-${state}`;
      button.setAttribute("aria-label", `${venue.seatName(venue.byId.get(id))}, ${STATE_WORDS[state]}`);
      button.setAttribute("aria-pressed", String(state === "selected" || state === "pending" || state === "yours"));
      button.disabled = state === "booked" || state === "held" || state === "pending" || state === "yours";
    }
    this.roving.sync();
  }

  bindToggle(handler) {
    this.container.addEventListener("click", (event) => {
      const button = event.target.closest(SEAT);
      if (!button || button.disabled) return;
      this.roving.remember(button);
      handler(button.dataset.seatId);
    });
  }
}

/**
 * Bands of sections, nearest the stage first: with positions for every section, those at about
 * the same distance from the stage share a band, left to right; otherwise one band each, in
 * layout order.
 */
export function arrange(sections) {
  if (!sections.every((section) => section.position)) return sections.map((section) => [section]);
  const sorted = [...sections].sort((a, b) => a.position.y - b.position.y || a.index - b.index);
  const bands = [];
  for (const section of sorted) {
    const band = bands[bands.length - 1];
    if (band && section.position.y - band[0].position.y <= BAND_DEPTH) band.push(section);
    else bands.push([section]);
  }
  return bands.map((band) => band.sort((a, b) => a.position.x - b.position.x));
}
