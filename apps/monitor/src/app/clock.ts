import { Inject, Injectable } from '@nestjs/common';
import { MONITOR_CONFIG, type MonitorConfig } from './monitor.config';

/**
 * The monitor's notion of "now". Every decision reads it from here, so the time trigger and the
 * phase deadlines can be exercised without waiting 62 days (GENESIS_CLOCK_OFFSET_MS).
 */
@Injectable()
export class Clock {
  private readonly offsetMs: number;

  constructor(@Inject(MONITOR_CONFIG) config: MonitorConfig) {
    this.offsetMs = config.clockOffsetMs;
  }

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}
