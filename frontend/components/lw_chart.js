// A React wrapper of TradingView's lightweight-charts (Apache-2.0) for the plutarc dashboard:
// candles with trade markers, or an equity line with its drawdown in a second pane.
// The container carries data-points / data-markers so tests can see what is drawn.
import { createElement, useEffect, useRef } from "react";
import {
  createChart, createSeriesMarkers, CandlestickSeries, LineSeries, AreaSeries, ColorType,
} from "lightweight-charts";

const THEME = {
  layout: { background: { type: ColorType.Solid, color: "transparent" }, textColor: "#b4b4bb",
            panes: { separatorColor: "#2a2a30" } },
  grid: { vertLines: { color: "#232329" }, horzLines: { color: "#232329" } },
  timeScale: { timeVisible: true, secondsVisible: false, borderColor: "#2a2a30" },
  rightPriceScale: { borderColor: "#2a2a30" },
  localization: { locale: "en-GB" },
};

const num = (v) => (v === null || v === undefined ? null : Number(v));

export function LwChart({ kind, data, markers, drawdown, height, id, onCandle }) {
  const box = useRef(null);
  const pick = useRef({ handler: null, last: null });
  pick.current.handler = onCandle;
  const chart = useRef(null);
  const series = useRef({});

  useEffect(() => {
    const c = createChart(box.current, { ...THEME, autoSize: true, height: height || 320 });
    chart.current = c;
    if (kind === "candles") {
      const s = c.addSeries(CandlestickSeries, {
        upColor: "#30a46c", downColor: "#e5484d", borderVisible: false,
        wickUpColor: "#30a46c", wickDownColor: "#e5484d",
      });
      series.current = { main: s, markers: createSeriesMarkers(s, []) };
      // hovering or clicking a candle tells the page its time (seconds), once per candle
      const tell = (p) => {
        const t = p && p.time;
        if (t === undefined || t === null || t === pick.current.last) return;
        pick.current.last = t;
        if (box.current) box.current.dataset.picked = String(t);
        if (pick.current.handler) pick.current.handler(t);
      };
      c.subscribeCrosshairMove(tell);
      c.subscribeClick(tell);
    } else {
      const main = c.addSeries(LineSeries, { color: "#3e63dd", lineWidth: 2 });
      const dd = c.addSeries(AreaSeries, {
        lineColor: "#e5484d", topColor: "rgba(229,72,77,0.05)", bottomColor: "rgba(229,72,77,0.35)",
        lineWidth: 1, invertFilledArea: true,
      }, 1);
      series.current = { main, dd };
    }
    return () => { c.remove(); chart.current = null; };
  }, [kind]);

  useEffect(() => {
    const s = series.current;
    if (!s.main) return;
    const rows = data || [];
    if (kind === "candles") {
      s.main.setData(rows.map((r) => ({ time: r.time, open: num(r.open), high: num(r.high),
                                          low: num(r.low), close: num(r.close) })));
      s.markers.setMarkers(markers || []);
    } else {
      s.main.setData(rows.map((r) => ({ time: r.time, value: num(r.value) })));
      s.dd.setData((drawdown || []).map((r) => ({ time: r.time, value: num(r.value) })));
    }
    if (chart.current && rows.length) chart.current.timeScale().fitContent();
    if (box.current) {
      box.current.dataset.points = String(rows.length);
      box.current.dataset.markers = String((markers || []).length);
    }
  }, [kind, data, markers, drawdown]);

  return createElement("div", { ref: box, id, className: "lw-chart",
                                style: { width: "100%", height: (height || 320) + "px" } });
}
