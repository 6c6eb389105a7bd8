/**
 * The terminal aggregate ({@link io.fraudstream.features.terminal.TerminalFeatures}): a
 * terminal's head ({@code TerminalHead}, its format table) with its per-hour counts
 * ({@code HourCounts}), recent entries ({@code KeyedTimes}), label verdicts
 * ({@code LabelVerdicts}) and cached edge hours ({@code HourTimes}); its hours spilled to map
 * state ({@code KeyedTimes}); and one event's view of both ({@code TerminalWindows}).
 */
package io.fraudstream.features.terminal;
