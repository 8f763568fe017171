// Search that ignores case and accents in any script, for users list --search.

/** The SQL function that every store connection defines with foldForSearch. */
export const SEARCH_FOLD_FUNCTION = 'twofa_search_fold';

/**
 * Folds text so that case, accents and Unicode forms do not matter: NFKD
 * without combining marks, then lower, upper and lower case. "JOSÉ" and
 * "jose" fold alike, and "ß" and "ẞ" fold like "ss".
 */
export function foldForSearch(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().toUpperCase().toLowerCase();
}
