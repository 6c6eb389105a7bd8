package io.fraudstream.features;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Writes a {@link CardHistory} as its live entries only (count, then each array as one block)
 * and the row, latest-time and evicted fields: no Kryo, no field names.
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
        int n = h.size();
        out.writeInt(n);
        Bulk.writeLongs(out, h.times, h.start, n);
        Bulk.writeDoubles(out, h.amounts, h.start, n);
        Bulk.writeLongs(out, h.terminals, h.start, n);
        Bulk.writeDoubles(out, h.lats, h.start, n);
        Bulk.writeDoubles(out, h.lons, h.start, n);
        out.writeLong(h.rowTime);
        out.writeDouble(h.rowLat);
        out.writeDouble(h.rowLon);
        out.writeLong(h.maxTime);
        out.writeBoolean(h.hasEvicted);
        out.writeLong(h.evictedTime);
        out.writeDouble(h.evictedLat);
        out.writeDouble(h.evictedLon);
    }

    @Override
    public CardHistory deserialize(DataInputView in) throws IOException {
        CardHistory h = new CardHistory();
        int n = Bulk.readCount(in);
        int capacity = Math.max(n, 4);
        h.times = Bulk.readLongs(in, n, capacity);
        h.amounts = Bulk.readDoubles(in, n, capacity);
        h.terminals = Bulk.readLongs(in, n, capacity);
        h.lats = Bulk.readDoubles(in, n, capacity);
        h.lons = Bulk.readDoubles(in, n, capacity);
        h.end = n;
        h.rowTime = in.readLong();
        h.rowLat = in.readDouble();
        h.rowLon = in.readDouble();
        h.maxTime = in.readLong();
        h.hasEvicted = in.readBoolean();
        h.evictedTime = in.readLong();
        h.evictedLat = in.readDouble();
        h.evictedLon = in.readDouble();
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
