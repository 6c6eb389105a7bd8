package io.fraudstream.features.card;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import io.fraudstream.features.state.Packing;
import io.fraudstream.features.state.StateFormat;

/**
 * What every event of a card needs, kept small enough to read and write whole: the recent
 * entries (hours from {@link #spillHour} on); for every older hour its count, sum, sum of
 * squares and largest amount; each terminal's two latest uses; the latest evicted
 * transaction; and the older hours the last event's window edges fell in. Older hours'
 * entries live in map state ({@link CardState#hours}), and so do the uses of terminals not
 * used for a day once a card has used many ({@link CardState#uses}). A card that never
 * spilled keeps no per-hour figures: its windows read its entries.
 *
 * <p>Stored ({@link #encode}) in format version 1 ({@link StateFormat}), big-endian; version 0
 * is the same without the version byte. Counts name the rows that give them:
 *
 * <pre>
 * field           type      bytes
 * version         byte      1
 * rowTime         long      8
 * rowLat          double    8
 * rowLon          double    8
 * maxTime         long      8
 * spillHour       long      8
 * hasEvicted      byte      1
 * evictedTime     long      8
 * evictedLat      double    8
 * evictedLon      double    8
 * usesSpilled     byte      1
 * usesSweptAt     long      8
 * usesMovedUpTo   long      8
 * nHours          int       4
 * hours           long[]    8 x nHours
 * counts          int[]     4 x nHours
 * sums            double[]  8 x nHours
 * sumsqs          double[]  8 x nHours
 * maxes           double[]  8 x nHours
 * nRecent         int       4
 * recent          entries   40 x nRecent     (times, amounts, terminals, lats, lons: CardEntries)
 * nTerminals      int       4
 * terminals       long[]    8 x nTerminals
 * latest          long[]    8 x nTerminals
 * second          long[]    8 x nTerminals
 * nCached         int       4
 * cached          blocks    12 x nCached     (hour, entry count) + 40 per entry, each
 * </pre>
 *
 * <p>Positions are NaN when missing; times of nothing are Long.MIN_VALUE.
 */
final class CardHead {

    static final double NO_POSITION = Double.NaN;

    long rowTime;
    double rowLat = NO_POSITION;
    double rowLon = NO_POSITION;
    long maxTime = Long.MIN_VALUE;
    long spillHour = Long.MIN_VALUE;

    long[] hours = new long[4];
    int[] counts = new int[4];
    double[] sums = new double[4];
    double[] sumsqs = new double[4];
    double[] maxes = new double[4];
    int nHours;

    CardEntries recent = new CardEntries();

    /** Terminal hashes used by the card (ascending) with their latest and second-latest use. */
    long[] terminals = new long[4];
    long[] latest = new long[4];
    long[] second = new long[4];
    int nTerminals;

    boolean hasEvicted;
    long evictedTime;
    double evictedLat = NO_POSITION;
    double evictedLon = NO_POSITION;

    /** Whether map state may hold uses of terminals ({@link CardState#uses}). */
    boolean usesSpilled;
    /** The latest time when those were swept of uses too old to count, or MIN_VALUE. */
    long usesSweptAt = Long.MIN_VALUE;
    /** No terminal moved to map state was used after this time (MIN_VALUE: none moved). */
    long usesMovedUpTo = Long.MIN_VALUE;

    long[] cachedHours = new long[0];
    CardEntries[] cachedBlocks = new CardEntries[0];

    static long hourOf(long time) {
        return Math.floorDiv(time, StateFormat.HOUR);
    }

    boolean isSpilled(long hour) {
        return hour < spillHour;
    }

    /** The last spilled hour, or MIN_VALUE while none is. */
    long lastSpilledHour() {
        return spillHour == Long.MIN_VALUE ? Long.MIN_VALUE : spillHour - 1;
    }

    int hourIndex(long hour) {
        return Arrays.binarySearch(hours, 0, nHours, hour);
    }

    int count(long hour) {
        int i = hourIndex(hour);
        return i >= 0 ? counts[i] : 0;
    }

    /** The row whose features are emitted next: its event time and position (NaN: none). */
    void row(long time, double lat, double lon) {
        rowTime = time;
        rowLat = lat;
        rowLon = lon;
    }

    /** A transaction at {@code time} was accumulated: the latest time follows it. */
    void advanceTo(long time) {
        maxTime = Math.max(maxTime, time);
    }

    /** A transaction of an hour not spilled yet, kept with the recent entries. */
    void insertRecent(long time, double amount, long terminal, double lat, double lon) {
        recent.insert(time, amount, terminal, lat, lon);
    }

    /**
     * An hour moved to map state with these figures: hours up to it are spilled now (its
     * recent entries go at the next {@link #dropSpilledRecent}).
     */
    void spilled(long hour, int n, double sum, double sumsq, double max) {
        addToHour(hour, n, sum, sumsq, max);
        spillHour = hour + 1;
    }

    /** Drops the recent entries of the hours spilled to map state. */
    void dropSpilledRecent() {
        recent.evictUpTo(spillHour * StateFormat.HOUR - 1);
    }

    /** Entry {@code i} of {@code e} is the latest transaction evicted so far. */
    void rememberEvicted(CardEntries e, int i) {
        hasEvicted = true;
        evictedTime = e.times[i];
        evictedLat = e.lats[i];
        evictedLon = e.lons[i];
    }

    /** Forgets the recent entries and the terminal uses at or before {@code edge}. */
    void forgetUpTo(long edge) {
        recent.evictUpTo(edge);
        forgetUsesUpTo(edge);
    }

    /** Map state was swept of old uses now; {@code anyLeft}: it still holds some. */
    void sweptUses(boolean anyLeft) {
        usesSpilled = anyLeft;
        usesSweptAt = maxTime;
    }

    /** Adds {@code n} transactions of a spilled hour with these figures to its own. */
    void addToHour(long hour, int n, double sum, double sumsq, double max) {
        int i = hourIndex(hour);
        if (i < 0) {
            i = -i - 1;
            if (nHours == hours.length) {
                int capacity = nHours * 2;
                hours = Arrays.copyOf(hours, capacity);
                counts = Arrays.copyOf(counts, capacity);
                sums = Arrays.copyOf(sums, capacity);
                sumsqs = Arrays.copyOf(sumsqs, capacity);
                maxes = Arrays.copyOf(maxes, capacity);
            }
            int later = nHours - i;
            System.arraycopy(hours, i, hours, i + 1, later);
            System.arraycopy(counts, i, counts, i + 1, later);
            System.arraycopy(sums, i, sums, i + 1, later);
            System.arraycopy(sumsqs, i, sumsqs, i + 1, later);
            System.arraycopy(maxes, i, maxes, i + 1, later);
            hours[i] = hour;
            counts[i] = 0;
            sums[i] = 0.0;
            sumsqs[i] = 0.0;
            maxes[i] = Double.NEGATIVE_INFINITY;
            nHours++;
        }
        counts[i] += n;
        sums[i] += sum;
        sumsqs[i] += sumsq;
        maxes[i] = Math.max(maxes[i], max);
    }

    /** Drops the hours up to {@code lastHour}; returns them (ascending). */
    long[] dropHoursUpTo(long lastHour) {
        int n = 0;
        while (n < nHours && hours[n] <= lastHour) {
            n++;
        }
        long[] dropped = Arrays.copyOf(hours, n);
        int later = nHours - n;
        System.arraycopy(hours, n, hours, 0, later);
        System.arraycopy(counts, n, counts, 0, later);
        System.arraycopy(sums, n, sums, 0, later);
        System.arraycopy(sumsqs, n, sumsqs, 0, later);
        System.arraycopy(maxes, n, maxes, 0, later);
        nHours = later;
        return dropped;
    }

    /** A use of a terminal at {@code time}: its two latest uses follow. */
    void use(long terminal, long time) {
        int i = Arrays.binarySearch(terminals, 0, nTerminals, terminal);
        if (i < 0) {
            i = -i - 1;
            if (nTerminals == terminals.length) {
                terminals = Arrays.copyOf(terminals, nTerminals * 2);
                latest = Arrays.copyOf(latest, nTerminals * 2);
                second = Arrays.copyOf(second, nTerminals * 2);
            }
            int later = nTerminals - i;
            System.arraycopy(terminals, i, terminals, i + 1, later);
            System.arraycopy(latest, i, latest, i + 1, later);
            System.arraycopy(second, i, second, i + 1, later);
            terminals[i] = terminal;
            latest[i] = Long.MIN_VALUE;
            second[i] = Long.MIN_VALUE;
            nTerminals++;
        }
        if (time >= latest[i]) {
            second[i] = latest[i];
            latest[i] = time;
        } else if (time > second[i]) {
            second[i] = time;
        }
    }

    int terminalIndex(long terminal) {
        return Arrays.binarySearch(terminals, 0, nTerminals, terminal);
    }

    /** Forgets uses at or before {@code edge} (and terminals with none left). */
    private void forgetUsesUpTo(long edge) {
        int kept = 0;
        for (int i = 0; i < nTerminals; i++) {
            if (latest[i] <= edge) {
                continue;
            }
            terminals[kept] = terminals[i];
            latest[kept] = latest[i];
            second[kept] = second[i] <= edge ? Long.MIN_VALUE : second[i];
            kept++;
        }
        nTerminals = kept;
    }

    /**
     * Removes the terminals last used at or before {@code unusedSince}; returns each one's
     * uses as {@link #packUses} writes them, for map state, and records that map state now
     * holds uses (and up to when they were used).
     */
    Map<Long, byte[]> removeUsesUpTo(long unusedSince) {
        Map<Long, byte[]> moved = new LinkedHashMap<>();
        int kept = 0;
        for (int i = 0; i < nTerminals; i++) {
            if (latest[i] <= unusedSince) {
                moved.put(terminals[i], packUses(latest[i], second[i]));
                usesSpilled = true;
                usesMovedUpTo = Math.max(usesMovedUpTo, latest[i]);
                continue;
            }
            terminals[kept] = terminals[i];
            latest[kept] = latest[i];
            second[kept++] = second[i];
        }
        nTerminals = kept;
        return moved;
    }

    /** Keeps these blocks (the hours the last event's window edges fell in) in the head. */
    void cacheBlocks(Map<Long, CardEntries> blocks) {
        cachedHours = new long[blocks.size()];
        cachedBlocks = new CardEntries[blocks.size()];
        int i = 0;
        for (Map.Entry<Long, CardEntries> entry : blocks.entrySet()) {
            cachedHours[i] = entry.getKey();
            cachedBlocks[i++] = entry.getValue();
        }
    }

    CardEntries cached(long hour) {
        for (int i = 0; i < cachedHours.length; i++) {
            if (cachedHours[i] == hour) {
                return cachedBlocks[i];
            }
        }
        return null;
    }

    byte[] encode() {
        int size = 6 * Long.BYTES + 4 * Double.BYTES + 2 + 3 * Integer.BYTES;
        size += nHours * (Long.BYTES + Integer.BYTES + 3 * Double.BYTES);
        size += nTerminals * 3 * Long.BYTES + recent.encodedSize();
        for (CardEntries block : cachedBlocks) {
            size += Long.BYTES + block.encodedSize();
        }
        ByteBuffer out = StateFormat.writer(StateFormat.Kind.CARD_HEAD, size);
        out.putLong(rowTime).putDouble(rowLat).putDouble(rowLon);
        out.putLong(maxTime).putLong(spillHour);
        out.put((byte) (hasEvicted ? 1 : 0)).putLong(evictedTime);
        out.putDouble(evictedLat).putDouble(evictedLon);
        out.put((byte) (usesSpilled ? 1 : 0)).putLong(usesSweptAt).putLong(usesMovedUpTo);
        out.putInt(nHours);
        Packing.putLongs(out, hours, 0, nHours);
        Packing.putInts(out, counts, nHours);
        Packing.putDoubles(out, sums, 0, nHours);
        Packing.putDoubles(out, sumsqs, 0, nHours);
        Packing.putDoubles(out, maxes, 0, nHours);
        recent.writeTo(out);
        out.putInt(nTerminals);
        Packing.putLongs(out, terminals, 0, nTerminals);
        Packing.putLongs(out, latest, 0, nTerminals);
        Packing.putLongs(out, second, 0, nTerminals);
        out.putInt(cachedHours.length);
        for (int i = 0; i < cachedHours.length; i++) {
            out.putLong(cachedHours[i]);
            cachedBlocks[i].writeTo(out);
        }
        return out.array();
    }

    static CardHead decode(byte[] bytes) {
        CardHead h = new CardHead();
        if (bytes == null || bytes.length == 0) {
            return h;
        }
        ByteBuffer in = StateFormat.reader(StateFormat.Kind.CARD_HEAD, bytes);
        h.rowTime = in.getLong();
        h.rowLat = in.getDouble();
        h.rowLon = in.getDouble();
        h.maxTime = in.getLong();
        h.spillHour = in.getLong();
        h.hasEvicted = in.get() == 1;
        h.evictedTime = in.getLong();
        h.evictedLat = in.getDouble();
        h.evictedLon = in.getDouble();
        h.usesSpilled = in.get() == 1;
        h.usesSweptAt = in.getLong();
        h.usesMovedUpTo = in.getLong();
        h.nHours = checked(in.getInt(), in, Long.BYTES + Integer.BYTES + 3 * Double.BYTES);
        h.hours = Packing.getLongs(in, h.nHours);
        h.counts = Packing.getInts(in, h.nHours);
        h.sums = Packing.getDoubles(in, h.nHours);
        h.sumsqs = Packing.getDoubles(in, h.nHours);
        h.maxes = Packing.getDoubles(in, h.nHours);
        h.recent = CardEntries.readFrom(in);
        h.nTerminals = checked(in.getInt(), in, 3 * Long.BYTES);
        h.terminals = Packing.getLongs(in, h.nTerminals);
        h.latest = Packing.getLongs(in, h.nTerminals);
        h.second = Packing.getLongs(in, h.nTerminals);
        int cached = in.getInt();
        h.cachedHours = new long[cached];
        h.cachedBlocks = new CardEntries[cached];
        for (int i = 0; i < cached; i++) {
            h.cachedHours[i] = in.getLong();
            h.cachedBlocks[i] = CardEntries.readFrom(in);
        }
        return h;
    }

    /**
     * A terminal's two latest uses as a map-state value ({@link CardState#uses}), stored in
     * format version 1 (kind CARD_TERMINAL_USES); version 0 is the same without the byte.
     *
     * <pre>
     * field           type      bytes
     * version         byte      1
     * latest          long      8
     * second          long      8                (Long.MIN_VALUE: none)
     * </pre>
     */
    static byte[] packUses(long latest, long second) {
        return StateFormat.writer(StateFormat.Kind.CARD_TERMINAL_USES, 2 * Long.BYTES)
                .putLong(latest)
                .putLong(second)
                .array();
    }

    /** {latest, second} from {@link #packUses}' bytes (or the unversioned ones before it). */
    static long[] unpackUses(byte[] packed) {
        ByteBuffer in = StateFormat.reader(StateFormat.Kind.CARD_TERMINAL_USES, packed);
        return new long[] {in.getLong(), in.getLong()};
    }

    private static int checked(int n, ByteBuffer in, int bytesEach) {
        if (n < 0 || n > in.remaining() / bytesEach) {
            throw new IllegalStateException("corrupt card head: " + n);
        }
        return n;
    }
}
