package io.fraudstream.scoring;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.apache.flink.table.functions.ScalarFunction;

/**
 * A transaction's features as one value for the scoring UDF: little-endian float32 (the
 * model's input type), in argument order, NULL as NaN. One binary column crosses into Python
 * instead of one Arrow column per feature: writing 38 DOUBLE columns per row cost the JVM
 * more than the model cost Python ({@code make bench}). Read back by
 * {@code udfs.scoring.feature_matrix}.
 */
public final class FeatureVector extends ScalarFunction {

    private static final long serialVersionUID = 1L;

    public byte[] eval(Double... features) {
        ByteBuffer vector = ByteBuffer.allocate(Float.BYTES * features.length);
        vector.order(ByteOrder.LITTLE_ENDIAN);
        for (Double feature : features) {
            vector.putFloat(feature == null ? Float.NaN : feature.floatValue());
        }
        return vector.array();
    }
}
