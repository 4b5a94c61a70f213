// The room of one show (GET /api/shows/{id}/layout): sections, rows and seats in layout order,
// the categories and their prices, and how seats are named. Built once per show; the layout
// never changes, so everything here is fixed and only the seats' statuses (state.js) move.
// No DOM, no fetch.

/** A room this big opens on an overview of its sections and shows one section at a time. */
export const BIG_ROOM = { seats: 2000, sections: 8 };

const moneyFormats = new Map();

/** 6500, "EUR" -> "€65.00" in the reader's locale; amounts are in the currency's minor unit. */
export function formatMoney(amount, currency) {
  if (!moneyFormats.has(currency)) {
    let format;
    try {
      format = new Intl.NumberFormat(undefined, { style: "currency", currency });
    } catch (error) {
      format = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    }
    moneyFormats.set(currency, format);
  }
  const format = moneyFormats.get(currency);
  const digits = format.resolvedOptions().maximumFractionDigits;
  return format.format(amount / 10 ** digits);
}

const compactCount = new Intl.NumberFormat(undefined, { notation: "compact" });

export function formatCount(count) {
  return count.toLocaleString();
}

/** 1000 -> "1K", where room is short (the overview's tiles). */
export function formatCompact(count) {
  return compactCount.format(count);
}

export class Venue {
  constructor(layout) {
    this.currency = layout.currency || "EUR";
    this.categories = new Map();    // id -> {id, name, price, index}
    (layout.categories || []).forEach((category, index) => this.categories.set(category.id, { ...category, index }));
    this.sections = [];             // [{name, index, position, curve, rows: [{label, seats}], first, count, totals}]
    this.seats = [];                // every seat in layout order: the order of the availability string
    this.byId = new Map();
    for (const [sectionIndex, section] of (layout.sections || []).entries()) {
      const entry = {
        name: section.name, index: sectionIndex, rows: [], first: this.seats.length, count: 0,
        position: validPosition(section.position), curve: clamp(Number(section.curve) || 0, 0, 1),
        totals: new Map(),          // category id -> seats of that category here
        accessible: 0,
      };
      for (const row of section.rows) {
        const seats = row.seats.map((seat) => {
          const built = {
            id: String(seat.id), number: seat.number, row: row.label, section: section.name, sectionIndex,
            category: seat.category, accessible: Boolean(seat.accessible), index: this.seats.length,
          };
          this.seats.push(built);
          this.byId.set(built.id, built);
          entry.totals.set(built.category, (entry.totals.get(built.category) || 0) + 1);
          if (built.accessible) entry.accessible += 1;
          return built;
        });
        entry.rows.push({ label: row.label, seats });
      }
      entry.count = this.seats.length - entry.first;
      this.sections.push(entry);
    }
    // Per seat, in typed arrays: what counting seats left walks through on every change.
    this.categoryIds = Array.from(this.categories.keys());
    this.seatCategory = Uint8Array.from(this.seats, (seat) => this.categories.get(seat.category)?.index || 0);
    this.seatAccessible = Uint8Array.from(this.seats, (seat) => (seat.accessible ? 1 : 0));
    this.priceTexts = new Map(Array.from(this.categories.values(), (category) =>
      [category.id, formatMoney(category.price, this.currency)]));
    this.multiSection = this.sections.length > 1;
    this.priced = Array.from(this.categories.values()).some((category) => category.price > 0);
    this.big = this.multiSection && (this.seats.length > BIG_ROOM.seats || this.sections.length > BIG_ROOM.sections);
    this.hasAccessible = this.sections.some((section) => section.accessible > 0);
  }

  section(name) {
    return this.sections.find((section) => section.name === name) || null;
  }

  price(seat) {
    const category = this.categories.get(seat.category);
    return category ? category.price : 0;
  }

  money(amount) {
    return formatMoney(amount, this.currency);
  }

  /** "Economy €40.00", or just the name when nothing in the room has a price. */
  categoryLabel(id) {
    const category = this.categories.get(id);
    if (!category) return id;
    return this.priced ? `${category.name} ${this.money(category.price)}` : category.name;
  }

  /** "Stalls, Row A seat 1, €65.00, wheelchair space": the section only when there are several,
   *  the price only when the room has prices. The seat's state is added by the view. */
  seatName(seat) {
    const parts = [];
    if (this.multiSection) parts.push(seat.section);
    parts.push(`Row ${seat.row} seat ${seat.number}`);
    if (this.priced) parts.push(this.priceTexts.get(seat.category) || this.money(0));
    if (seat.accessible) parts.push("wheelchair space");
    return parts.join(", ");
  }

  /** "Stalls, Row A seat 1" for the selection list. */
  seatPlace(seat) {
    return `${this.multiSection ? `${seat.section}, ` : ""}Row ${seat.row} seat ${seat.number}`;
  }
}

function validPosition(position) {
  if (!position || !Number.isFinite(position.x) || !Number.isFinite(position.y)) return null;
  return { x: clamp(position.x, 0, 100), y: clamp(position.y, 0, 100) };
}

function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}
