declare module 'swagger-ui-dist' {
  /** Folder holding Swagger UI's static assets. */
  export function absolutePath(): string;
}
