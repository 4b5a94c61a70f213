// The overview of a big room (#show-view [data-role=overview]): one tile per section, placed
// where the layout's positions put it (stage at the top), or in layout order when it has none;
// each says how many seats are left, by category with its price, in words as well as colour.
// A tile is a button (named with all of that) stretched over a box whose other words and bars
// are for the eye only, so the button's visible text stays part of its name (WCAG 2.5.3).
// Choosing one zooms into it. Tiles are built once per show; later rounds only change text.

import { el, part } from "./dom.js";
import { formatCompact, formatCount } from "./venue.js";
import { RovingFocus } from "./roving-focus.js";

const TILE = "button[data-section]";

export class OverviewView {
  constructor(root) {
    this.root = root;
    this.plane = part(root, "sections");
    this.info = part(root, "section-info");
    this.tiles = new Map();   // section name -> {button, left, detail, bars}
    this.roving = new RovingFocus(this.plane, TILE, { linear: true });
    // Pointing at or focusing a tile spells it out under the drawing, where tiles are small.
    const explain = (event) => {
      const button = event.target.closest(TILE);
      if (button) this.info.textContent = button.getAttribute("aria-label");
    };
    this.plane.addEventListener("pointerover", explain);
    this.plane.addEventListener("focusin", explain);
  }

  render(venue) {
    this.plane.replaceChildren();
    this.tiles = new Map();
    this.info.textContent = "";
    const positioned = venue.sections.every((section) => section.position);
    this.plane.classList.toggle("positioned", positioned);
    if (positioned) {
      // The plane spans the positions used, so a room drawn in a band does not leave a void.
      const ys = venue.sections.map((section) => section.position.y);
      const top = Math.max(0, Math.min(...ys) - 6);
      const bottom = Math.min(100, Math.max(...ys) + 6);
      this.plane.style.setProperty("--plane-top", String(top));
      this.plane.style.setProperty("--plane-height", String(Math.max(bottom - top, 20)));
    }
    for (const section of venue.sections) {
      const bars = el("span", { class: "tile-bars", "aria-hidden": "true" });
      const barNodes = new Map();
      for (const id of section.totals.keys()) {
        const bar = el("span", { class: "tile-bar", "data-category": categoryKey(venue, id) });
        barNodes.set(id, bar);
        bars.append(bar);
      }
      const left = el("span", { class: "tile-left", "aria-hidden": "true" });
      const detail = el("span", { class: "tile-detail", "aria-hidden": "true" });
      const button = el("button", { type: "button", class: "section-tile", "data-section": section.name },
        el("span", { class: "tile-short", text: shortName(section.name) }),
        el("span", { class: "tile-full", text: section.name }));
      const item = el("li", { class: "tile-item", "data-category": categoryKey(venue, section.totals.keys().next().value) },
        button, left, bars, detail);
      if (positioned) {
        item.style.setProperty("--x", String(section.position.x));
        item.style.setProperty("--y", String(section.position.y));
      }
      this.plane.append(item);
      this.tiles.set(section.name, { item, button, left, detail, bars: barNodes });
    }
    this.roving.reset([Array.from(this.tiles.values(), (tile) => tile.button)]);
    this.roving.sync();
  }

  /** Brings the tiles' words and bars in line with the seats left. */
  update(store, { sections }) {
    const venue = store.venue;
    for (const section of venue.sections) {
      const tile = this.tiles.get(section.name);
      if (!tile) continue;
      const now = sections[section.index];
      const lines = Array.from(section.totals, ([id, total]) => {
        const available = now.byCategory.get(id) || 0;
        tile.bars.get(id).style.setProperty("--fill", String(total ? available / total : 0));
        return `${venue.categoryLabel(id)}: ${formatCount(available)} left`;
      });
      const soldOut = now.available === 0;
      tile.left.textContent = soldOut ? "Sold out" : formatCompact(now.available);
      const wheelchair = store.accessibleOnly
        ? `${formatCount(now.accessible)} wheelchair place${now.accessible === 1 ? "" : "s"} free` : null;
      tile.detail.textContent = [...lines, wheelchair].filter(Boolean).join(" · ");
      tile.item.classList.toggle("sold-out", soldOut);
      tile.item.classList.toggle("no-wheelchair", store.accessibleOnly && now.accessible === 0);
      if (store.accessibleOnly) tile.left.textContent = `♿ ${formatCompact(now.accessible)}`;
      const summary = soldOut ? "sold out" : `${formatCount(now.available)} of ${formatCount(section.count)} seats left`;
      tile.button.setAttribute("aria-label", [`${section.name}: ${summary}`, ...lines, wheelchair].filter(Boolean).join(". "));
    }
  }

  bindZoom(handler) {
    this.plane.addEventListener("click", (event) => {
      const button = event.target.closest(TILE);
      if (!button) return;
      this.roving.remember(button);
      this.roving.sync();
      handler(button.dataset.section);
    });
  }

  /** Focus back on a section's tile (after Back to overview). */
  focusSection(name) {
    const tile = this.tiles.get(name);
    if (!tile) return;
    this.roving.remember(tile.button);
    this.roving.sync();
    tile.button.focus();
  }
}

function categoryKey(venue, id) {
  const category = venue.categories.get(id);
  return String(category ? category.index % 6 : 0);
}

/** "Block 201" -> "201" for a small tile; other names as they are (CSS clips what can't fit). */
function shortName(name) {
  const match = /^(?:block|section|sector|stand|bloc|tribune)\s+(\S{1,5})$/i.exec(name.trim());
  return match ? match[1] : name;
}
