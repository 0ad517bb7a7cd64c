/**
 * The interrupt rate of the selected device, drawn by blessed-contrib's sparkline. Contrib
 * widgets do not follow a resize, so the widget is rebuilt whenever its place changes.
 */
import { createSparkline, type Screen, type Sparkline } from '../blessed.js';
import type { Rect } from '../layout.js';
import { interruptRates, newest, rateTitle } from '../present/sparkline.js';
import { elementStyle, type Theme } from '../theme.js';
import { escapeTags, safeText, truncate } from '../width.js';

export interface SparklineModel {
  bdf: string | null;
  /** Interrupt counts, oldest first. */
  counts: readonly number[];
}

function tagColour(theme: Theme): string {
  const fg = theme.styles.accent.fg;
  return fg && fg !== 'default' ? (fg.startsWith('#') ? fg : fg.replace(/-/g, '')) : 'default';
}

export function createSparklinePane(screen: Screen, theme: Theme) {
  let widget: Sparkline | null = null;
  let rect: Rect | null = null;
  let shown: string | null = null;
  const base = elementStyle(theme.styles.base);

  function build(r: Rect): Sparkline {
    return createSparkline(screen, {
      top: r.top,
      left: r.left,
      width: r.width,
      height: r.height,
      border: { type: 'line' },
      label: ' Interrupts/s ',
      style: {
        ...base,
        ...elementStyle(theme.styles.sparkline),
        border: { ...base, ...elementStyle(theme.styles.border) },
        label: { ...base, ...elementStyle(theme.styles.title) },
        titleFg: tagColour(theme),
      },
    });
  }

  return {
    /** Rebuilds the chart for a new place (contrib charts do not re-layout by themselves). */
    place(next: Rect | null): void {
      const same = rect && next && rect.top === next.top && rect.left === next.left && rect.width === next.width && rect.height === next.height;
      if (same) return;
      widget?.destroy();
      widget = next ? build(next) : null;
      rect = next;
      shown = null;
    },
    widget: () => widget,
    render(m: SparklineModel): void {
      if (!widget || !rect) return;
      const rates = interruptRates(m.counts);
      const data = newest(rates, rect.width - 2);
      // contrib puts a colon after the title; one line, or it wraps under the chart.
      const title = escapeTags(truncate(safeText(rateTitle(m.bdf, rates)), rect.width - 3));
      const key = `${title}|${data.join(',')}`;
      if (key === shown) return;
      shown = key;
      widget.setData([title], [data]);
    },
  };
}
