/**
 * What every stored value of the feature state shares: the format version it begins with
 * ({@link io.fraudstream.features.state.StateFormat}) and the packing of primitive arrays and
 * varints ({@link io.fraudstream.features.state.Packing}).
 */
package io.fraudstream.features.state;
