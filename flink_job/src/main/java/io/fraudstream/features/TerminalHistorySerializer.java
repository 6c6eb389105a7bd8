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
        out.writeLong(h.currentTime);
        write(h.transactions, out, true);
        write(h.frauds, out, true);
    }

    private static void write(KeyedTimes entries, DataOutputView out, boolean withKeys)
            throws IOException {
        out.writeInt(entries.size());
        for (int i = entries.start; i < entries.end; i++) {
            out.writeLong(entries.times[i]);
            if (withKeys) {
                out.writeLong(entries.keys[i]);
            }
        }
    }

    @Override
    public TerminalHistory deserialize(DataInputView in) throws IOException {
        long delayMs = in.readLong();
        long currentTime = in.readLong();
        TerminalHistory h = new TerminalHistory(read(in, true), read(in, true));
        h.delayMs = delayMs;
        h.currentTime = currentTime;
        return h;
    }

    private static KeyedTimes read(DataInputView in, boolean withKeys) throws IOException {
        KeyedTimes entries = new KeyedTimes();
        int n = in.readInt();
        entries.times = new long[Math.max(n, 4)];
        entries.keys = new long[Math.max(n, 4)];
        for (int i = 0; i < n; i++) {
            entries.times[i] = in.readLong();
            entries.keys[i] = withKeys ? in.readLong() : 0L;
        }
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
