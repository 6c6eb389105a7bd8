package io.fraudstream.features;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/** Writes a {@link TerminalHistory} as its live entries only: no Kryo, no field names. */
public final class TerminalHistorySerializer extends TypeSerializerSingleton<TerminalHistory> {

    private static final long serialVersionUID = 1L;

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public TerminalHistory createInstance() {
        return new TerminalHistory();
    }

    @Override
    public TerminalHistory copy(TerminalHistory from) {
        return from.copy();
    }

    @Override
    public TerminalHistory copy(TerminalHistory from, TerminalHistory reuse) {
        return from.copy();
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(TerminalHistory h, DataOutputView out) throws IOException {
        out.writeLong(h.delayMs);
        out.writeLong(h.rowTime);
        out.writeLong(h.maxTime);
        write(h.transactions, out);
        write(h.frauds, out);
    }

    private static void write(KeyedTimes entries, DataOutputView out) throws IOException {
        int n = entries.size();
        out.writeInt(n);
        Bulk.writeLongs(out, entries.times, entries.start, n);
        Bulk.writeLongs(out, entries.keys, entries.start, n);
    }

    @Override
    public TerminalHistory deserialize(DataInputView in) throws IOException {
        long delayMs = in.readLong();
        long rowTime = in.readLong();
        long maxTime = in.readLong();
        TerminalHistory h = new TerminalHistory(read(in), read(in));
        h.delayMs = delayMs;
        h.rowTime = rowTime;
        h.maxTime = maxTime;
        return h;
    }

    private static KeyedTimes read(DataInputView in) throws IOException {
        KeyedTimes entries = new KeyedTimes();
        int n = Bulk.readCount(in);
        int capacity = Math.max(n, 4);
        entries.times = Bulk.readLongs(in, n, capacity);
        entries.keys = Bulk.readLongs(in, n, capacity);
        entries.end = n;
        return entries;
    }

    @Override
    public TerminalHistory deserialize(TerminalHistory reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        serialize(deserialize(source), target);
    }

    @Override
    public TypeSerializerSnapshot<TerminalHistory> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Restores this serializer from a checkpoint. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<TerminalHistory> {
        public Snapshot() {
            super(TerminalHistorySerializer::new);
        }
    }
}
