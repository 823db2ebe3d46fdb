// The seat map of one event: every seat by section, row and number, coloured by status, live from
// seatsChanged. Statuses are applied in sequence order only. The first subscription asks for a sequence
// past the log, which the server answers with one numbered snapshot of the whole map; after a drop the
// page passes the last sequence it applied and gets what it missed (or a snapshot). While it catches up
// the map is marked stale and no seat can be chosen: a seat is never offered after the server said it
// is taken.
import { execute, OperationError, session } from './api.ts';
import { announce, h, money } from './dom.ts';
import type { Live } from './live.ts';
import {
  ConfirmBookingDocument,
  HoldSeatsDocument,
  MyActiveHoldDocument,
  MyBookingsDocument,
  SeatMapDocument,
  type SeatStatus,
  SeatUpdatesDocument,
} from '../../src/generated/client/graphql.ts';

/** GraphQL's largest Int: past any sequence the log holds, so the server starts with a snapshot. */
const SNAPSHOT_PLEASE = 2_147_483_647;

interface SeatView {
  id: string;
  section: string;
  row: string;
  number: number;
  price: string;
  status: SeatStatus;
  button: HTMLButtonElement;
}

type Phase = 'loading' | 'replaying' | 'live' | 'disconnected';

const byNatural = new Intl.Collator(undefined, { numeric: true }).compare;

export async function seatMapPage(root: HTMLElement, live: Live, eventId: string): Promise<() => void> {
  const { event } = await execute(SeatMapDocument, { eventId });
  if (!event) {
    root.append(h('p', {}, 'No such event.'));
    return () => {};
  }
  const seats = new Map<string, SeatView>();
  const selected = new Set<string>();
  const mine = new Set<string>();
  let sequence: number | undefined;
  let phase: Phase = 'loading';
  let hold: { id: string; expiresAt: number } | undefined;
  let focusId: string | undefined;

  const phaseText = h('span', { id: 'seat-phase' });
  const map = h('div', { className: 'seat-map', id: 'seat-map', 'aria-busy': 'true' });
  const summary = h('p', { id: 'selection', 'aria-live': 'polite' });
  const countdown = h('p', { id: 'hold-countdown', 'aria-live': 'polite' });
  const error = h('p', { id: 'seat-error', role: 'alert', className: 'error' });
  const holdButton = h('button', { id: 'hold', type: 'button', disabled: true }, 'Hold selected seats');
  const confirmButton = h('button', { id: 'confirm', type: 'button', disabled: true }, 'Confirm booking');
  const bookings = h('ul', { id: 'my-bookings' });

  const statusWord = (seat: SeatView): string =>
    mine.has(seat.id) ? 'held by you' : seat.status === 'AVAILABLE' ? 'available' : seat.status.toLowerCase();
  const paint = (seat: SeatView): void => {
    const b = seat.button;
    b.dataset.status = seat.status;
    b.className = `seat ${seat.status.toLowerCase()}${mine.has(seat.id) ? ' mine' : ''}`;
    b.disabled = phase !== 'live' || (seat.status !== 'AVAILABLE' && !selected.has(seat.id));
    b.setAttribute('aria-pressed', String(selected.has(seat.id)));
    b.setAttribute(
      'aria-label',
      `Section ${seat.section}, row ${seat.row}, seat ${seat.number}, ${statusWord(seat)}, ${money(seat.price)}`,
    );
  };
  const paintAll = (): void => {
    map.dataset.phase = phase;
    map.classList.toggle('stale', phase !== 'live');
    map.setAttribute('aria-busy', String(phase !== 'live'));
    phaseText.textContent =
      phase === 'live'
        ? 'live'
        : phase === 'replaying'
          ? 'replaying missed changes'
          : phase === 'loading'
            ? 'loading'
            : 'not live';
    for (const seat of seats.values()) paint(seat);
    const chosen = [...selected].map((id) => seats.get(id)!);
    const total = chosen.reduce((sum, s) => sum + Number(s.price), 0);
    summary.textContent = chosen.length === 0 ? 'No seats selected.' : `${chosen.length} selected, ${money(total)}`;
    holdButton.disabled = phase !== 'live' || chosen.length === 0 || session.token() === null;
    confirmButton.disabled = hold === undefined;
  };
  let frame = 0;
  const repaint = (): void => {
    if (frame !== 0) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      paintAll();
    });
  };

  const setStatus = (id: string, status: SeatStatus): void => {
    const seat = seats.get(id);
    if (!seat) return;
    // A chosen seat that someone else takes stays chosen (shown taken): the hold request is the server's to
    // refuse, and its answer says which seats went.
    seat.status = status;
    if (status !== 'HELD') mine.delete(id);
  };

  // Layout: sections, then rows, then seats by number, with a roving tab stop for the arrow keys.
  const sections = new Map<string, Map<string, typeof event.seats>>();
  for (const seat of [...event.seats].sort((a, b) => byNatural(a.row, b.row) || a.number - b.number)) {
    const rows = sections.get(seat.section) ?? new Map();
    sections.set(seat.section, rows);
    rows.set(seat.row, [...(rows.get(seat.row) ?? []), seat]);
  }
  const grid: string[][] = [];
  for (const [name, rows] of [...sections].sort(([a], [b]) => byNatural(a, b))) {
    const block = h(
      'section',
      { className: 'section', 'aria-label': `Section ${name}` },
      h('h3', {}, `Section ${name}`),
    );
    for (const [row, rowSeats] of rows) {
      const line = h('div', { className: 'row', role: 'group', 'aria-label': `Section ${name} row ${row}` });
      line.append(h('span', { className: 'row-label', 'aria-hidden': 'true' }, row));
      grid.push(rowSeats.map((s) => s.id));
      for (const s of rowSeats) {
        const button = h('button', { type: 'button', 'data-seat-id': s.id, tabindex: -1 }, String(s.number));
        seats.set(s.id, { ...s, price: String(s.price), button });
        line.append(button);
      }
      block.append(line);
    }
    map.append(block);
  }
  const first = grid[0]?.[0];
  if (first) {
    seats.get(first)!.button.tabIndex = 0;
    focusId = first;
  }

  const moveFocus = (id: string): void => {
    const from = focusId ? seats.get(focusId) : undefined;
    if (from) from.button.tabIndex = -1;
    const to = seats.get(id)!;
    to.button.tabIndex = 0;
    to.button.focus();
    focusId = id;
  };
  map.addEventListener('click', (e) => {
    const id = (e.target as HTMLElement).closest<HTMLElement>('[data-seat-id]')?.dataset.seatId;
    const seat = id ? seats.get(id) : undefined;
    if (!seat || phase !== 'live') return;
    if (selected.has(seat.id)) selected.delete(seat.id);
    else if (seat.status === 'AVAILABLE') selected.add(seat.id);
    paintAll();
  });
  // The roving tab stop follows focus, however it got there (arrow keys, Tab, a click).
  map.addEventListener('focusin', (e) => {
    const id = (e.target as HTMLElement).closest<HTMLElement>('[data-seat-id]')?.dataset.seatId;
    if (!id || id === focusId) return;
    if (focusId) seats.get(focusId)!.button.tabIndex = -1;
    seats.get(id)!.button.tabIndex = 0;
    focusId = id;
  });
  map.addEventListener('keydown', (e) => {
    if (!focusId) return;
    const r = grid.findIndex((row) => row.includes(focusId!));
    const c = grid[r]!.indexOf(focusId);
    const step: Record<string, [number, number]> = {
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
    };
    const move = step[e.key];
    if (!move) return;
    e.preventDefault();
    const row = grid[Math.max(0, Math.min(grid.length - 1, r + move[0]))]!;
    moveFocus(row[Math.max(0, Math.min(row.length - 1, c + move[1]))]!);
  });

  const showError = (err: unknown): void => {
    if (err instanceof OperationError && err.code === 'SEATS_UNAVAILABLE') {
      const refused = (err.errors[0]?.extensions.seats ?? []) as { id: string; reason: string }[];
      for (const r of refused) {
        selected.delete(r.id);
        if (r.reason === 'HELD' || r.reason === 'BOOKED') setStatus(r.id, r.reason);
      }
      const names = refused.map((r) => {
        const s = seats.get(r.id);
        return s ? `section ${s.section} row ${s.row} seat ${s.number} (${r.reason.toLowerCase()})` : r.id;
      });
      error.textContent = `Not held: ${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} no longer available.`;
    } else error.textContent = err instanceof Error ? err.message : String(err);
    paintAll();
  };

  let ticker: ReturnType<typeof setInterval> | undefined;
  const tick = (): void => {
    if (!hold) {
      countdown.textContent = '';
      return;
    }
    const left = Math.max(0, Math.round((hold.expiresAt - Date.now()) / 1000));
    countdown.textContent =
      left > 0
        ? `Your hold expires in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`
        : 'Your hold expired.';
    if (left === 0) {
      hold = undefined;
      mine.clear();
      paintAll();
    }
  };

  const showHold = (held: { id: string; expiresAt: string; seats: readonly { id: string }[] }): void => {
    hold = { id: held.id, expiresAt: Date.parse(held.expiresAt) };
    for (const s of held.seats) {
      setStatus(s.id, 'HELD');
      mine.add(s.id);
    }
    clearInterval(ticker);
    ticker = setInterval(tick, 1000);
    tick();
    paintAll();
  };
  holdButton.addEventListener('click', () => {
    error.textContent = '';
    execute(HoldSeatsDocument, { eventId, seatIds: [...selected] }).then(({ holdSeats }) => {
      selected.clear();
      announce(`Holding ${holdSeats.seats.length} seats.`);
      showHold(holdSeats);
    }, showError);
  });
  // After a reload the hold is still the server's: its seats and countdown come back.
  const restoreHold = async (): Promise<void> => {
    if (session.token() === null) return;
    const { myActiveHold } = await execute(MyActiveHoldDocument, { eventId });
    if (myActiveHold && hold === undefined) showHold(myActiveHold);
  };
  confirmButton.addEventListener('click', () => {
    if (!hold) return;
    error.textContent = '';
    execute(ConfirmBookingDocument, { holdId: hold.id, idempotencyKey: crypto.randomUUID() }).then(
      ({ confirmBooking }) => {
        for (const s of confirmBooking.seats) setStatus(s.id, 'BOOKED');
        hold = undefined;
        tick();
        announce(`Booked: reference ${confirmBooking.reference}.`);
        paintAll();
        void loadBookings();
      },
      showError,
    );
  });

  const loadBookings = async (): Promise<void> => {
    if (session.token() === null) return;
    const { myBookings } = await execute(MyBookingsDocument, { first: 10 });
    bookings.replaceChildren(
      ...myBookings.nodes.map((b) =>
        h('li', {}, `${b.reference}: ${b.event.name}, ${b.status.toLowerCase()}, ${money(b.total)}`),
      ),
    );
  };

  // Live statuses. On a reconnection the map is also read again over HTTP as a barrier: the page is live
  // once that answer is in, taking from it every seat the server says is taken (a seat it shows free but
  // the sequenced state has taken stays taken until a numbered change frees it).
  const stopLive = live.add((subscribe, again) => {
    phase = sequence === undefined ? 'loading' : 'replaying';
    paintAll();
    const stop = subscribe(
      SeatUpdatesDocument,
      { eventId, afterSequence: sequence ?? SNAPSHOT_PLEASE },
      ({ seatsChanged: change }) => {
        if (!change.snapshot && sequence !== undefined && change.sequence <= sequence) return;
        for (const s of change.seats) setStatus(s.id, s.status);
        sequence = change.sequence;
        if (phase === 'loading') phase = 'live';
        repaint();
      },
      showError,
    );
    if (again && sequence !== undefined) {
      execute(SeatMapDocument, { eventId }).then(({ event: fresh }) => {
        for (const s of fresh?.seats ?? []) if (s.status !== 'AVAILABLE') setStatus(s.id, s.status);
        if (phase === 'replaying') phase = 'live';
        paintAll();
      }, showError);
    }
    return () => {
      stop();
      phase = 'disconnected';
      paintAll();
    };
  });

  root.append(
    h('h2', {}, event.name),
    h(
      'p',
      { className: 'legend' },
      h('span', { className: 'seat available' }, 'free'),
      ' ',
      h('span', { className: 'seat held' }, 'held'),
      ' ',
      h('span', { className: 'seat booked' }, 'booked'),
      ' ',
      h('span', { className: 'seat mine' }, 'yours'),
      ' Seat map: ',
      phaseText,
    ),
    h('p', { className: 'hint' }, 'Arrow keys move between seats; Enter or Space selects.'),
    map,
    summary,
    h('div', { className: 'actions' }, holdButton, confirmButton),
    countdown,
    error,
    session.token() === null ? h('p', {}, h('a', { href: '#/signin' }, 'Sign in'), ' to hold seats.') : '',
    h('h3', {}, 'My bookings'),
    bookings,
  );
  paintAll();
  void loadBookings().catch(showError);
  void restoreHold().catch(showError);
  return () => {
    stopLive();
    clearInterval(ticker);
  };
}
