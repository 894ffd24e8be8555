// Which browser and system a User-Agent names ("Chrome", "Windows"), for "from Chrome on
// Windows" in a request and for this device's name. A classic script, so that both the page
// and the service worker (importScripts) can load it.
(function (global) {
  'use strict';
  var BROWSERS = [
    [/Edg(e|A|iOS)?\//, 'Edge'],
    [/OPR\/|Opera/, 'Opera'],
    [/SamsungBrowser\//, 'Samsung Internet'],
    [/Firefox\/|FxiOS\//, 'Firefox'],
    [/Chrome\/|CriOS\/|Chromium\//, 'Chrome'],
    [/Safari\//, 'Safari'],
    [/^tessera-authenticator/i, 'tessera authenticator'],
  ];
  var SYSTEMS = [
    [/Android/, 'Android'],
    [/iPhone|iPad|iPod/, 'iOS'],
    [/Windows/, 'Windows'],
    [/CrOS/, 'ChromeOS'],
    [/Macintosh|Mac OS X/, 'macOS'],
    [/Linux|X11/, 'Linux'],
  ];
  function first(list, ua) {
    for (var i = 0; i < list.length; i++) {
      if (list[i][0].test(ua)) return list[i][1];
    }
    return null;
  }
  global.tesseraBrowserName = function (ua) {
    ua = ua || '';
    return { browser: first(BROWSERS, ua), os: first(SYSTEMS, ua) };
  };
})(self);
