package io.fraudstream.features;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Arrays of a key's history written and read as one block of bytes each: a history of
 * thousands of entries is copied, not written a field at a time.
 */
final class Bulk {

    private Bulk() {}

    static void writeLongs(DataOutputView out, long[] values, int from, int n) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(n * Long.BYTES);
        bytes.asLongBuffer().put(values, from, n);
        out.write(bytes.array());
    }

    static void writeDoubles(DataOutputView out, double[] values, int from, int n)
            throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(n * Double.BYTES);
        bytes.asDoubleBuffer().put(values, from, n);
        out.write(bytes.array());
    }

    static long[] readLongs(DataInputView in, int n, int capacity) throws IOException {
        byte[] bytes = new byte[n * Long.BYTES];
        in.readFully(bytes);
        long[] values = new long[capacity];
        ByteBuffer.wrap(bytes).asLongBuffer().get(values, 0, n);
        return values;
    }

    static double[] readDoubles(DataInputView in, int n, int capacity) throws IOException {
        byte[] bytes = new byte[n * Double.BYTES];
        in.readFully(bytes);
        double[] values = new double[capacity];
        ByteBuffer.wrap(bytes).asDoubleBuffer().get(values, 0, n);
        return values;
    }

    /** A count read back from state: negative or absurd means the bytes are not ours. */
    static int readCount(DataInputView in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > 1 << 26) {
            throw new IOException("corrupt feature history: " + n + " entries");
        }
        return n;
    }
}
