// Types for a module that ships none.

declare module '@zxcvbn-ts/language-common/dist/passwords.json.mjs' {
  /** Common passwords, lower case, most common first. */
  const passwords: string[];
  export default passwords;
}
