package io.fraudstream.features;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.table.catalog.DataTypeFactory;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.inference.TypeInference;
import org.apache.flink.table.types.inference.TypeStrategies;

/**
 * An aggregate's layout as the job hands it over (contracts/features.py, {@code
 * FeatureLayout.card_spec()} / {@code terminal_spec()}): settings, then the output fields in
 * order, each with its SQL type, the statistic computed for it and its window. The aggregates
 * keep no window of their own; their ROW type is these fields.
 *
 * <pre>
 * spec    = settings "|" field (";" field)*
 * settings = [key "=" value (";" key "=" value)*]
 * field   = name ":" sqlType ":" stat ":" windowMillis
 * </pre>
 */
public final class LayoutSpec implements Serializable {

    private static final long serialVersionUID = 1L;

    private final String text;
    private final Map<String, String> settings = new HashMap<>();
    private final List<String> names = new ArrayList<>();
    private final List<String> types = new ArrayList<>();
    private final List<String> stats = new ArrayList<>();
    private final List<Long> windows = new ArrayList<>();

    public LayoutSpec(String text) {
        this.text = text;
        int bar = text.indexOf('|');
        if (bar < 0) {
            throw new IllegalArgumentException("feature layout without '|': " + text);
        }
        for (String setting : text.substring(0, bar).split(";")) {
            if (!setting.isEmpty()) {
                String[] kv = setting.split("=", 2);
                settings.put(kv[0], kv[1]);
            }
        }
        for (String field : text.substring(bar + 1).split(";")) {
            int last = field.lastIndexOf(':');
            int stat = field.lastIndexOf(':', last - 1);
            int first = field.indexOf(':');
            if (first <= 0 || stat <= first || last <= stat) {
                throw new IllegalArgumentException("feature layout field not name:type:stat:window: "
                        + field);
            }
            names.add(field.substring(0, first));
            types.add(field.substring(first + 1, stat));
            stats.add(field.substring(stat + 1, last));
            windows.add(Long.parseLong(field.substring(last + 1)));
        }
    }

    public int size() {
        return names.size();
    }

    /** The statistic of field {@code i} (its name in the aggregate's Stat, lower case). */
    public String stat(int i) {
        return stats.get(i);
    }

    /** The window of field {@code i} in milliseconds (0 where the statistic has none). */
    public long window(int i) {
        return windows.get(i);
    }

    public double setting(String key) {
        String value = settings.get(key);
        if (value == null) {
            throw new IllegalArgumentException("feature layout has no setting " + key + ": " + text);
        }
        return Double.parseDouble(value);
    }

    public long longestWindow() {
        long longest = 0;
        for (long w : windows) {
            longest = Math.max(longest, w);
        }
        return longest;
    }

    String rowType() {
        StringBuilder row = new StringBuilder("ROW<");
        for (int i = 0; i < size(); i++) {
            row.append(i == 0 ? "" : ", ").append('`').append(names.get(i)).append("` ")
                    .append(types.get(i));
        }
        return row.append('>').toString();
    }

    /** The annotations' inference (arguments, accumulator) with these fields as the output. */
    public TypeInference withOutput(TypeInference extracted, DataTypeFactory factory) {
        DataType output = factory.createDataType(rowType());
        TypeInference.Builder builder = TypeInference.newBuilder()
                .inputTypeStrategy(extracted.getInputTypeStrategy())
                .outputTypeStrategy(TypeStrategies.explicit(output));
        extracted.getAccumulatorTypeStrategy().ifPresent(builder::accumulatorTypeStrategy);
        extracted.getNamedArguments().ifPresent(builder::namedArguments);
        extracted.getTypedArguments().ifPresent(builder::typedArguments);
        extracted.getOptionalArguments().ifPresent(builder::optionalArguments);
        return builder.build();
    }
}
