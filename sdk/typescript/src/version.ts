/** The SDK's version: the `User-Agent` names it. Kept equal to package.json's (a test checks). */
export const VERSION = "0.1.0";
