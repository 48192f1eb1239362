import DataLoader from 'dataloader';
import type { Services } from '../../services';
import type { ReadEvent } from '../../services/event-log';
import type { Page } from '../../services/pagination';

export interface TimelineKey {
  objectId: string;
  first: number;
  after: string | null;
}

/**
 * Timelines of the objects of one request: the keys asking for the same page
 * (size and cursor; in practice all of a list's) are read in one query.
 */
export function eventTimelineLoader(services: Services, merchantId: string, cache: boolean): DataLoader<TimelineKey, Page<ReadEvent>, string> {
  return new DataLoader<TimelineKey, Page<ReadEvent>, string>(
    async (keys) => {
      const groups = new Map<string, { first: number; after: string | null; ids: string[] }>();
      for (const key of keys) {
        const group = `${key.first}\u0000${key.after ?? ''}`;
        if (!groups.has(group)) groups.set(group, { first: key.first, after: key.after, ids: [] });
        groups.get(group)!.ids.push(key.objectId);
      }
      const pages = new Map<string, Page<ReadEvent>>();
      await Promise.all(
        [...groups].map(async ([group, { first, after, ids }]) => {
          const byObject = await services.events.timelines(merchantId, [...new Set(ids)], first, after);
          for (const [id, page] of byObject) pages.set(`${group}\u0000${id}`, page);
        }),
      );
      return keys.map((key) => pages.get(`${key.first}\u0000${key.after ?? ''}\u0000${key.objectId}`)!);
    },
    { cache, cacheKeyFn: (key) => `${key.first}\u0000${key.after ?? ''}\u0000${key.objectId}` },
  );
}
