import * as path from 'node:path';
import { javaCommand, parseJavaMajorVersion } from './tools';

describe('parseJavaMajorVersion', () => {
  it.each([
    ['openjdk version "17.0.15" 2025-04-15', 17],
    ['java version "21" 2023-09-19', 21],
    ['openjdk version "11.0.2" 2019-01-15', 11],
    ['java version "1.8.0_292"', 8],
  ])('reads %s as Java %i', (output, major) => {
    expect(parseJavaMajorVersion(output)).toBe(major);
  });

  it('gives up on output it does not recognise', () => {
    expect(parseJavaMajorVersion('command not found')).toBeUndefined();
  });
});

describe('javaCommand', () => {
  it('uses the java of JAVA_HOME when it is set, like Maven does', () => {
    expect(javaCommand({ JAVA_HOME: '/opt/jdk' })).toBe(path.join('/opt/jdk', 'bin', 'java'));
  });

  it('falls back to java from PATH', () => {
    expect(javaCommand({})).toBe('java');
  });
});
