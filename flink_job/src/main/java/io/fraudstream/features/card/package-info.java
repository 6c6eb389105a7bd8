/**
 * The card aggregate ({@link io.fraudstream.features.card.CardFeatures}): a card's head
 * ({@code CardHead}, its format table), its hours spilled to map state ({@code CardEntries})
 * and one event's view of both ({@code CardWindows}).
 */
package io.fraudstream.features.card;
