/** Errors about data files. Each message starts with the file's name and says what is wrong. */

/** A data file that is missing, corrupt, truncated or not what it claims to be. */
export class DataError extends Error {
  override name = "DataError";
}

/**
 * A byte source does not have the file at all (as opposed to having a bad one). Loaders that try
 * several places in turn move on quietly after this error, and report any other.
 */
export class MissingFileError extends DataError {
  override name = "MissingFileError";
  constructor(
    readonly file: string,
    readonly where: string,
  ) {
    super(`${file}: not found in ${where}`);
  }
}
