/** The event-loop delay gauge of the proxy's process metrics. */
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

/**
 * `<prefix>event_loop_delay_seconds{stat}`: the event loop's delay (perf_hooks
 * monitorEventLoopDelay, 10 ms resolution) since the previous scrape, as max, p99 and mean;
 * prom-client's own `nodejs_eventloop_lag_*` histogram never resets, so it shows the process's
 * whole life instead. Returns the histogram (to disable on close).
 */
export function loopDelayGauge(prefix: string, registers: Registry[]): IntervalHistogram {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  new Gauge({
    name: `${prefix}event_loop_delay_seconds`,
    help: 'Event-loop delay since the previous scrape (stat: max, p99, mean)',
    labelNames: ['stat'],
    registers,
    collect() {
      const seconds = (ns: number): number => (Number.isFinite(ns) ? ns / 1e9 : 0);
      this.set({ stat: 'max' }, seconds(histogram.max));
      this.set({ stat: 'p99' }, seconds(histogram.percentile(99)));
      this.set({ stat: 'mean' }, seconds(histogram.mean));
      histogram.reset();
    },
  });
  return histogram;
}
