// Prometheus metrics of one node, in a registry of its own (tests run several nodes per process).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class NodeMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'hs_http_requests_total', help: 'API requests by route and status',
    labelNames: ['route', 'status'] as const, registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'hs_http_request_duration_seconds', help: 'API request latency by route',
    labelNames: ['route'] as const, registers: [this.registry],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  private readonly busRoundTrip = new Histogram({
    name: 'hs_bus_round_trip_seconds', help: 'Round trip to the message bus',
    registers: [this.registry], buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
  });

  constructor(activeActors: () => Promise<Record<string, number>>, withProcessMetrics: boolean) {
    new Gauge({
      name: 'hs_actors_active', help: 'Activated actors by kind', labelNames: ['kind'] as const,
      registers: [this.registry],
      async collect() {
        for (const [kind, count] of Object.entries(await activeActors())) this.set({ kind }, count);
      },
    });
    if (withProcessMetrics) collectDefaultMetrics({ register: this.registry });
  }

  observeRequest(route: string, status: number, seconds: number): void {
    this.requests.inc({ route, status: String(status) });
    this.latency.observe({ route }, seconds);
  }

  observeBusRoundTrip(milliseconds: number): void {
    this.busRoundTrip.observe(milliseconds / 1000);
  }
}
