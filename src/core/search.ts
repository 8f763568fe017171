// Case-insensitive search in any script, for users list --search.

/** The SQL function that every store connection defines with foldForSearch. */
export const SEARCH_FOLD_FUNCTION = 'twofa_search_fold';

/**
 * Folds text for a search: the Unicode compatibility form (NFKC), so a
 * decomposed "é" matches a precomposed one, then upper case and lower case,
 * so that "ß" matches "SS" and "JOSÉ" matches "josé".
 */
export function foldForSearch(text: string): string {
  return text.normalize('NFKC').toUpperCase().toLowerCase();
}
