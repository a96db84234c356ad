import { EventStreamController } from './event-stream.controller';
import { EventStreams } from './event-streams';

/** The bus as Server-Sent Events: GET /api/v1/events. */
export const EVENTS_CONTROLLERS = [EventStreamController];
export const EVENTS_PROVIDERS = [EventStreams];
