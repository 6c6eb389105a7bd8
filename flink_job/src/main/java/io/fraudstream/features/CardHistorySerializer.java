package io.fraudstream.features;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Writes a {@link CardHistory} as its live entries only (count, then time, amount and
 * terminal hash per entry) and the latest/previous positions: no Kryo, no field names.
 */
public final class CardHistorySerializer extends TypeSerializerSingleton<CardHistory> {

    private static final long serialVersionUID = 1L;

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public CardHistory createInstance() {
        return new CardHistory();
    }

    @Override
    public CardHistory copy(CardHistory from) {
        return from.copy();
    }

    @Override
    public CardHistory copy(CardHistory from, CardHistory reuse) {
        return from.copy();
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(CardHistory h, DataOutputView out) throws IOException {
        out.writeInt(h.size());
        for (int i = h.start; i < h.end; i++) {
            out.writeLong(h.times[i]);
            out.writeDouble(h.amounts[i]);
            out.writeLong(h.terminals[i]);
        }
        out.writeBoolean(h.hasCurrent);
        out.writeLong(h.currentTime);
        out.writeDouble(h.currentLat);
        out.writeDouble(h.currentLon);
        out.writeBoolean(h.hasPrevious);
        out.writeLong(h.previousTime);
        out.writeDouble(h.previousLat);
        out.writeDouble(h.previousLon);
    }

    @Override
    public CardHistory deserialize(DataInputView in) throws IOException {
        CardHistory h = new CardHistory();
        int n = in.readInt();
        h.times = new long[Math.max(n, 4)];
        h.amounts = new double[Math.max(n, 4)];
        h.terminals = new long[Math.max(n, 4)];
        for (int i = 0; i < n; i++) {
            h.times[i] = in.readLong();
            h.amounts[i] = in.readDouble();
            h.terminals[i] = in.readLong();
        }
        h.end = n;
        h.hasCurrent = in.readBoolean();
        h.currentTime = in.readLong();
        h.currentLat = in.readDouble();
        h.currentLon = in.readDouble();
        h.hasPrevious = in.readBoolean();
        h.previousTime = in.readLong();
        h.previousLat = in.readDouble();
        h.previousLon = in.readDouble();
        return h;
    }

    @Override
    public CardHistory deserialize(CardHistory reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        serialize(deserialize(source), target);
    }

    @Override
    public TypeSerializerSnapshot<CardHistory> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Restores this serializer from a checkpoint. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<CardHistory> {
        public Snapshot() {
            super(CardHistorySerializer::new);
        }
    }
}
