package io.fraudstream.features.state;

import java.nio.ByteBuffer;

/**
 * Primitive arrays written to and read from the byte blocks the feature state keeps (a key's
 * head, an hour's entries), a block copy each. Arrays read back have room for at least four
 * entries, so that inserting into them does not grow them at once.
 */
public final class Packing {

    private Packing() {}

    public static void putLongs(ByteBuffer out, long[] values, int from, int n) {
        out.asLongBuffer().put(values, from, n);
        out.position(out.position() + n * Long.BYTES);
    }

    public static void putDoubles(ByteBuffer out, double[] values, int from, int n) {
        out.asDoubleBuffer().put(values, from, n);
        out.position(out.position() + n * Double.BYTES);
    }

    public static void putInts(ByteBuffer out, int[] values, int n) {
        out.asIntBuffer().put(values, 0, n);
        out.position(out.position() + n * Integer.BYTES);
    }

    public static long[] getLongs(ByteBuffer in, int n) {
        long[] values = new long[Math.max(n, 4)];
        in.asLongBuffer().get(values, 0, n);
        in.position(in.position() + n * Long.BYTES);
        return values;
    }

    public static double[] getDoubles(ByteBuffer in, int n) {
        double[] values = new double[Math.max(n, 4)];
        in.asDoubleBuffer().get(values, 0, n);
        in.position(in.position() + n * Double.BYTES);
        return values;
    }

    public static int[] getInts(ByteBuffer in, int n) {
        int[] values = new int[Math.max(n, 4)];
        in.asIntBuffer().get(values, 0, n);
        in.position(in.position() + n * Integer.BYTES);
        return values;
    }

    /** Bytes {@link #putVarint} writes for {@code value} (unsigned, 7 bits a byte). */
    public static int varintSize(long value) {
        int n = 1;
        while ((value >>>= 7) != 0) {
            n++;
        }
        return n;
    }

    public static void putVarint(ByteBuffer out, long value) {
        while ((value & ~0x7FL) != 0) {
            out.put((byte) ((value & 0x7F) | 0x80));
            value >>>= 7;
        }
        out.put((byte) value);
    }

    public static long getVarint(ByteBuffer in) {
        long value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            byte b = in.get();
            value |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                return value;
            }
        }
        throw new IllegalStateException("corrupt varint");
    }
}
