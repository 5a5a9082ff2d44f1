import packageJson from '../../package.json';

export const appName = packageJson.productName;
export const appVersion = packageJson.version;
