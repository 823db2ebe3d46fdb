// The live seat map in a real browser: two customers on one event in two browser contexts, one of them on
// a phone-sized screen; then one of them offline while others book, coming back to the server's map.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { withPg } from '../support/database.ts';
import { dataOf } from '../support/kit.ts';
import { AVAILABILITY, CONFIRM, createEvent, HOLD, type TestEvent } from '../ticketing/kit.ts';
import { framesSent, open, openContext, seatButton, shownSeats, useWebFixture, waitForStatus } from './kit.ts';

const web = useWebFixture(4);

/** The server's seat list, by id, through GraphQL. */
async function serverSeats(event: TestEvent): Promise<Record<string, string>> {
  const data = dataOf(
    await web.gateway.query<{ event: { seats: { id: string; status: string }[] } }>(AVAILABILITY, { id: event.id }),
  );
  return Object.fromEntries(data.event.seats.map((s) => [s.id, s.status]));
}

describe('the seat map', () => {
  it('shows another customer’s hold and booking within a second, and the refusal of a taken seat', async () => {
    const event = await createEvent(web.database.url, 60);
    // Two sections and a readable name, for the screenshot.
    await withPg(web.database.url, async (client) => {
      await client.query(`UPDATE "Event" SET name = 'Penang Jazz Night' WHERE id = $1`, [event.id]);
      await client.query(
        `UPDATE "Seat" SET section = 'B', row = (row::int - 3)::text, price = 80 WHERE "eventId" = $1 AND row::int > 3`,
        [event.id],
      );
    });
    const [a, b, c] = web.customers;
    const contextA = await openContext(web, a!.token);
    const contextB = await openContext(web, b!.token, { width: 390, height: 844 }); // a phone
    const pageA = await open(web, contextA, `#/event/${event.id}`);
    const pageB = await open(web, contextB, `#/event/${event.id}`);
    await pageA.locator('#seat-map[data-phase="live"]').waitFor();
    await pageB.locator('#seat-map[data-phase="live"]').waitFor();
    expect(await pageB.locator('#live').textContent()).toBe('live');

    const wanted = event.seatIds.slice(11, 14);
    // B picks one of them first; A then takes all three.
    await seatButton(pageB, wanted[0]!).click();
    await expect.poll(() => seatButton(pageB, wanted[0]!).getAttribute('aria-pressed')).toBe('true');
    for (const id of wanted) await seatButton(pageA, id).click();
    await pageA.locator('#hold').click();
    await pageA.locator('#hold-countdown', { hasText: /Your hold expires in \d+:\d\d/ }).waitFor();
    const held = Date.now();
    await waitForStatus(pageB, wanted, 'HELD', 1_000);
    expect(Date.now() - held).toBeLessThan(1_000);
    // A reload keeps the hold: its seats are shown as A's and the countdown comes back.
    await pageA.reload();
    await pageA.locator('#seat-map[data-phase="live"]').waitFor();
    await pageA.locator('#hold-countdown', { hasText: /Your hold expires in \d+:\d\d/ }).waitFor();
    for (const id of wanted) expect(await seatButton(pageA, id).getAttribute('class')).toContain('mine');

    await pageA.locator('#confirm').click();
    await pageA.locator('#announcer', { hasText: /Booked: reference/ }).waitFor();
    const booked = Date.now();
    await waitForStatus(pageB, wanted, 'BOOKED', 1_000);
    expect(Date.now() - booked).toBeLessThan(1_000);
    await expect.poll(() => pageA.locator('#my-bookings li').count()).toBe(1);

    // B still has the seat chosen; its hold is refused and the page says which seat and why.
    await pageB.locator('#hold').click();
    const refusal = pageB.locator('#seat-error');
    await refusal.filter({ hasText: /no longer available/ }).waitFor();
    expect(await refusal.textContent()).toContain('(booked)');
    expect(await seatButton(pageB, wanted[0]!).getAttribute('aria-pressed')).toBe('false');
    expect(await shownSeats(pageB)).toEqual(await serverSeats(event));

    // Keyboard: focus a seat, move right with the arrow key, select with Space.
    await seatButton(pageB, event.seatIds[0]!).focus();
    await pageB.keyboard.press('ArrowRight');
    await pageB.keyboard.press('Space');
    expect(await seatButton(pageB, event.seatIds[1]!).getAttribute('aria-pressed')).toBe('true');
    expect(await seatButton(pageB, event.seatIds[1]!).getAttribute('aria-label')).toMatch(
      /^Section A, row 1, seat 2, available, MYR 100\.00$/,
    );

    dataOf(await web.gateway.query(HOLD, { eventId: event.id, seatIds: event.seatIds.slice(44, 46) }, c!.headers));
    await waitForStatus(pageB, event.seatIds.slice(44, 46), 'HELD', 1_000);
    const path =
      process.env.UPDATE_SCREENSHOTS === '1' ? 'docs/seat-map.png' : join(tmpdir(), 'cachegate-seat-map.png');
    await pageB.screenshot({ path, fullPage: true });
    expect(web.pageErrors).toEqual([]);
    await contextA.close();
    await contextB.close();
  });

  it('after a cut in the network, catches up and shows exactly the server’s seats', async () => {
    const event = await createEvent(web.database.url, 40);
    const [, b, c, d] = web.customers;
    const context = await openContext(web, b!.token);
    const page = await open(web, context, `#/event/${event.id}`);
    await page.locator('#seat-map[data-phase="live"]').waitFor();
    // One change while live, so the page has a sequence to resume from.
    dataOf(await web.gateway.query(HOLD, { eventId: event.id, seatIds: [event.seatIds[0]] }, c!.headers));
    await expect.poll(() => seatButton(page, event.seatIds[0]!).getAttribute('data-status')).toBe('HELD');

    await context.setOffline(true);
    await page.locator('#live[data-state="offline"]').waitFor();
    await page.locator('#seat-map.stale').waitFor();
    // Changes while it is away: c books two more, d holds three, c's first seat becomes booked too.
    const hold = dataOf(
      await web.gateway.query<{ holdSeats: { id: string } }>(
        HOLD,
        { eventId: event.id, seatIds: event.seatIds.slice(1, 3) },
        c!.headers,
      ),
    );
    dataOf(await web.gateway.query(CONFIRM, { holdId: hold.holdSeats.id, key: randomUUID() }, c!.headers));
    dataOf(await web.gateway.query(HOLD, { eventId: event.id, seatIds: event.seatIds.slice(20, 23) }, d!.headers));
    expect(await seatButton(page, event.seatIds[1]!).getAttribute('data-status')).toBe('AVAILABLE');
    // Nothing is offered while the page cannot know.
    expect(await seatButton(page, event.seatIds[30]!).isDisabled()).toBe(true);

    const subscribedBefore = framesSent(page).filter((f) => f.type === 'subscribe').length;
    await context.setOffline(false);
    await page.locator('#seat-map[data-phase="live"]').waitFor();
    // It resumed from the last change it had applied (1: the first hold), not from a fresh snapshot.
    const resumed = framesSent(page)
      .filter((f) => f.type === 'subscribe')
      .slice(subscribedBefore);
    expect(resumed.map((f) => f.payload?.variables?.afterSequence)).toEqual([1]);
    await expect.poll(async () => shownSeats(page), { timeout: 2_000 }).toEqual(await serverSeats(event));
    expect(await page.locator('#live').textContent()).toBe('live');
    expect(web.pageErrors).toEqual([]);
    await context.close();
  });
});
